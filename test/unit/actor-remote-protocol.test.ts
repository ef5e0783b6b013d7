import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeReply, encodeRequest, functionSubject } from "../../src/runtime/actors/remote-protocol.js";
import { DelayedMessages } from "../../src/runtime/actors/delayed-messages.js";
import { MessageQueue } from "../../src/runtime/actors/message-queue.js";
import { addressKey, addressProblem, keyAddress, type Envelope } from "../../src/runtime/actors/types.js";
import { ErrorCode } from "../../src/core/errors.js";
import { withCode } from "../helpers/error-code.js";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const me = { type: "account", id: "7" };
const types = new Set(["account"]);
const egresses = new Set(["applied"]);
const decode = (v: unknown, max = 1024 * 1024) => decodeReply(enc(v), me, types, egresses, max);

test("a request carries the address, its state (null when none) and each message with its sender", () => {
  const msgs: Envelope[] = [
    { to: me, from: null, body: { kind: "transfer", amount: 3 } },
    { to: me, from: { type: "account", id: "2" }, body: 5 },
  ];
  assert.deepEqual(JSON.parse(new TextDecoder().decode(encodeRequest(me, undefined, msgs))), {
    address: me,
    state: null,
    messages: [
      { from: null, body: { kind: "transfer", amount: 3 } },
      { from: { type: "account", id: "2" }, body: 5 },
    ],
  });
  assert.equal(functionSubject("eddy", "account"), "eddy.fn.account");
});

test("a good reply is read whole: state (null clears), sends with delays, egress records", () => {
  assert.deepEqual(
    decode({
      state: { balance: 4 },
      send: [{ to: { type: "account", id: "9" }, body: { x: 1 }, delayMs: 250 }, { to: { type: "account", id: "3" } }],
      egress: [{ name: "applied", value: [1, 7, -4] }],
    }),
    {
      state: { balance: 4 },
      send: [
        { to: { type: "account", id: "9" }, body: { x: 1 }, delayMs: 250 },
        { to: { type: "account", id: "3" }, body: null },
      ],
      egress: [{ name: "applied", value: [1, 7, -4] }],
    },
  );
  assert.deepEqual(decode({ state: null }), { state: null, send: [], egress: [] });
});

test("bad replies are refused with RemoteFunctionFailed naming what is wrong", () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ error: { code: "Overdrawn", message: "no" } }, /answered an error: Overdrawn: no/],
    ["{not json", /not JSON/],
    [[1, 2], /not a JSON object/],
    [{ send: [] }, /without "state"/],
    [{ state: 1, send: {} }, /"send" that is not an array/],
    [{ state: 1, send: [{ to: { type: "account" } }] }, /send\[0\] to a wrong address: the address id/],
    [{ state: 1, send: [{ to: { type: "a.b", id: "1" } }] }, /send\[0\] to a wrong address: the address type "a\.b"/],
    [{ state: 1, send: [{ to: { type: "loan", id: "1" } }] }, /send\[0\] to the type "loan", which the application does not have/],
    [{ state: 1, send: [{ to: me, delayMs: -1 }] }, /send\[0\]\.delayMs -1/],
    [{ state: 1, egress: [{ name: "audit", value: 1 }] }, /egress\[0\] to "audit", which the application does not have/],
    [{ state: 1, egress: [{ value: 1 }] }, /egress\[0\] that is not an object \{name, value\}/],
  ];
  for (const [reply, message] of bad) assert.throws(() => decode(reply), withCode(ErrorCode.RemoteFunctionFailed, message), JSON.stringify(reply));
  assert.throws(() => decode({ state: "x".repeat(100) }, 64), withCode(ErrorCode.RemoteFunctionFailed, /more than the 64 a reply may have/));
});

test("addresses: keys round-trip (ids may hold '/'), malformed ones are named", () => {
  const a = { type: "user", id: "a/b/c" };
  assert.deepEqual(keyAddress(addressKey(a)), a);
  assert.equal(addressProblem(a), undefined);
  assert.match(addressProblem({ type: "", id: "1" })!, /must match/);
  assert.match(addressProblem({ type: "t", id: "" })!, /1 to 256 characters/);
  assert.match(addressProblem("t/1")!, /must be an object/);
});

test("the message queue is first in, first out across its compaction", () => {
  const q = new MessageQueue();
  const env = (n: number): Envelope => ({ to: me, from: null, body: n });
  for (let n = 0; n < 5_000; n++) q.push(env(n));
  const got: unknown[] = [];
  for (let n = 0; n < 3_000; n++) got.push(q.shift()!.body);
  for (let n = 5_000; n < 6_000; n++) q.push(env(n));
  assert.deepEqual(
    q.toArray().map((e) => e.body),
    Array.from({ length: 3_000 }, (_, i) => i + 3_000),
  );
  while (q.length > 0) got.push(q.shift()!.body);
  assert.deepEqual(
    got,
    Array.from({ length: 6_000 }, (_, i) => i),
  );
  assert.equal(q.shift(), undefined);
});

test("delayed messages come out when due, in due order (ties in the order added), and wake their owner", async () => {
  let woken = 0;
  const d = new DelayedMessages(() => woken++);
  const now = Date.now();
  const env = (n: number): Envelope => ({ to: me, from: null, body: n });
  d.add({ due: now + 40, envelope: env(3) });
  d.add({ due: now - 5, envelope: env(1) });
  d.add({ due: now + 40, envelope: env(4) });
  d.add({ due: now - 5, envelope: env(2) });
  assert.deepEqual(
    d.takeDue(now).map((e) => e.body),
    [1, 2],
  );
  assert.deepEqual(d.takeDue(now), []);
  assert.deepEqual(
    d.toArray().map((m) => m.envelope.body),
    [3, 4],
  );
  while (woken === 0) await new Promise((r) => setTimeout(r, 10));
  assert.ok(Date.now() >= now + 40);
  assert.deepEqual(
    d.takeDue(Date.now()).map((e) => e.body),
    [3, 4],
  );
  d.add({ due: Date.now() + 20, envelope: env(5) });
  d.close();
  const at = Date.now();
  while (Date.now() <= at + 60) await new Promise((r) => setTimeout(r, 10));
  assert.equal(woken, 1, "a closed list wakes nobody");
});
