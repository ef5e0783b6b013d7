import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { headers } from "@nats-io/transport-node";
import { Actor, later, type MethodSpec } from "../../src/rpc/actor.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { ConflictError, type EddyError, FencingTokenError, TimeoutError, ValidationError } from "../../src/core/errors.js";
import { decode } from "../../src/codec/codec.js";
import { s } from "../../src/schema/index.js";
import { startTestNats } from "../helpers/nats-server.js";

class Counter extends Actor {
  readonly address = "t.counter";
  value = 0;
  /** Each `slow` call waits for one of these to be called (or 10 s). */
  readonly releaseSlow: Array<() => void> = [];
  concurrent = 0;
  maxConcurrent = 0;
  constructor(
    private readonly nc: NatsConnection,
    public token: string,
  ) {
    super();
  }
  protected override fencingToken() {
    return this.token;
  }
  start() {
    this.serve(this.nc);
  }
  protected methods(): Record<string, MethodSpec> {
    return {
      add: {
        fence: "leader",
        parse: s.parser(s.object({ n: s.int({ min: 0, max: 100 }) })),
        handle: async (b: { n: number }) => {
          this.concurrent++;
          this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
          const v = this.value;
          await new Promise((r) => setTimeout(r, 1));
          this.value = v + b.n;
          this.concurrent--;
          return { value: this.value };
        },
      },
      get: { fence: "none", handle: () => ({ value: this.value }) },
      conflict: {
        fence: "none",
        handle: () => {
          throw new ConflictError("DuplicateJobId", "already there");
        },
      },
      slow: {
        fence: "none",
        handle: () =>
          later(
            new Promise((r) => {
              const timer = setTimeout(() => r({ late: "timed out" }), 10_000);
              this.releaseSlow.push(() => (clearTimeout(timer), r({ late: true })));
            }),
          ),
      },
      tiny: { fence: "none", maxBytes: 64, handle: () => ({ ok: true }) },
    };
  }
}

let nats: { url: string; stop(): Promise<void> };
let nc: NatsConnection;
let actor: Counter;

before(async () => {
  nats = await startTestNats();
  nc = await connectNats(nats.url, "test");
  actor = new Counter(nc, "token-1");
  actor.start();
  await nc.flush();
});
after(async () => {
  await actor.stopActor();
  await nc.close();
  await nats.stop();
});

test("an actor handles one message at a time (no lost updates under concurrency)", async () => {
  const gw = new Gateway(nc, actor.address, { token: "token-1" });
  await Promise.all(Array.from({ length: 50 }, () => gw.ask("add", { n: 1 })));
  assert.equal(actor.value, 50);
  assert.equal(actor.maxConcurrent, 1);
});

test("a message with a missing or stale fencing token never reaches the handler", async () => {
  const before = actor.value;
  const stale = new Gateway(nc, actor.address, { token: "token-0" });
  await assert.rejects(stale.ask("add", { n: 5 }), (e: unknown) => e instanceof FencingTokenError && e.code === "FencingTokenMismatch");
  await assert.rejects(new Gateway(nc, actor.address).ask("add", { n: 5 }), FencingTokenError);
  assert.equal(actor.value, before);
  // after a new leader session, the old token is stale
  actor.token = "token-2";
  await assert.rejects(new Gateway(nc, actor.address, { token: "token-1" }).ask("add", { n: 5 }), FencingTokenError);
  await new Gateway(nc, actor.address, { token: "token-2" }).ask("add", { n: 5 });
  assert.equal(actor.value, before + 5);
  actor.token = "token-1";
});

test("remote errors keep their class, code and message", async () => {
  const gw = new Gateway(nc, actor.address);
  await assert.rejects(gw.ask("conflict"), (e: unknown) => e instanceof ConflictError && e.code === "DuplicateJobId" && e.message === "already there");
  await assert.rejects(gw.ask("nope"), (e: unknown) => e instanceof ValidationError && e.code === "UnknownMethod");
  await assert.rejects(
    new Gateway(nc, actor.address, { token: "token-1" }).ask("add", { n: "x" }),
    (e: unknown) => e instanceof ValidationError && /n: must be an integer/.test((e as Error).message),
  );
});

test("malformed bodies and oversized payloads get error replies, and the actor keeps serving", async () => {
  const raw = await nc.request(`${actor.address}.get`, new Uint8Array([0xc1, 0xff, 0x00]), { timeout: 2000 });
  const body = decode(raw.data) as { error: { code: string } };
  assert.equal(body.error.code, "MalformedRequest");
  const h = headers();
  h.set("Content-Type", "application/json");
  const bad = await nc.request(`${actor.address}.get`, new TextEncoder().encode("{not json"), { timeout: 2000, headers: h });
  assert.equal((JSON.parse(new TextDecoder().decode(bad.data)) as { error: { code: string } }).error.code, "MalformedRequest");
  await assert.rejects(new Gateway(nc, actor.address).ask("tiny", { pad: "x".repeat(100) }), (e: unknown) => (e as EddyError).code === "PayloadTooLarge");
  const ok = await new Gateway(nc, actor.address).ask<{ value: number }>("get");
  assert.equal(typeof ok.value, "number");
});

test("JSON requests get JSON replies", async () => {
  const h = headers();
  h.set("Content-Type", "application/json");
  const m = await nc.request(`${actor.address}.get`, new TextEncoder().encode("{}"), { timeout: 2000, headers: h });
  assert.deepEqual(Object.keys(JSON.parse(new TextDecoder().decode(m.data))), ["value"]);
});

test("a per-call timeout fires, and a long reply does not block the mailbox", async () => {
  const gw = new Gateway(nc, actor.address);
  await assert.rejects(gw.ask("slow", {}, { timeoutMs: 50 }), TimeoutError);
  let slowSettled = false;
  const slow = gw.ask("slow", {}, { timeoutMs: 10_000 }).finally(() => (slowSettled = true));
  await gw.ask("get");
  assert.equal(slowSettled, false, "get answered while slow is pending");
  // The actor handles a subject's messages in order: both slow calls are in hand by now.
  assert.equal(actor.releaseSlow.length, 2, "both slow calls are being handled");
  for (const release of actor.releaseSlow.splice(0)) release();
  assert.deepEqual(await slow, { late: true });
});

test("nobody serving a subject is NoResponders", async () => {
  await assert.rejects(new Gateway(nc, "t.nobody").ask("x", {}, { timeoutMs: 1000 }), (e: unknown) => (e as EddyError).code === "NoResponders");
});

test("a local call reaches a public method through the mailbox, gets a copy, and is refused for fenced methods and once fenced off", async () => {
  const gw = new Gateway(nc, actor.address, { token: "token-1" });
  const before = (await gw.ask<{ value: number }>("get")).value;
  const [added, seen] = await Promise.all([gw.ask<{ value: number }>("add", { n: 5 }), actor.callLocal<{ value: number }>("get", {})]);
  assert.ok(seen.value === before || seen.value === added.value, "the local read waits its turn in the mailbox: never a half-done add");
  const copy = await actor.callLocal<{ value: number }>("get", {});
  copy.value = -1;
  assert.notEqual(actor.value, -1);
  await assert.rejects(actor.callLocal("add", { n: 1 }), (e: EddyError) => e.code === "UnknownMethod", "a fenced method is not callable locally");
  await assert.rejects(actor.callLocal("conflict", {}), (e: EddyError) => e instanceof ConflictError && e.code === "DuplicateJobId");
  const other = new Counter(nc, "token-2");
  other.start();
  other.fenceOff();
  await assert.rejects(other.callLocal("get", {}), (e: EddyError) => e.code === "NotLeader");
  await other.stopActor();
});
