/**
 * `npm run bench -- actors`: stateful actors (src/actor-sdk) through the whole runtime in one thread
 * (test/helpers/local-runtime.ts), against a plain keyed process function doing the same state update
 * in the same run:
 *
 * - local messages: N ingress messages to actors of type `a`, each of which counts in its state and
 *   sends one message (one hop) to an actor of type `b`, which counts too: 2N messages applied. The
 *   baseline is 2N records through keyBy and a KeyedProcessFunction that counts per key. Figures are
 *   messages (records) per CPU second of this process.
 * - remote round trips: `b` served by a plain NATS responder in this process (another connection):
 *   messages and requests per second, with the requests' batching.
 * - hop latency at low load: ingress at 200 messages a second, `a` stamps the time and sends to `b`
 *   (local) or to the remote `r`, whose reply sends on to the local `c`; the receiver writes the
 *   elapsed time. p50 and p99 of each.
 *
 * Alone: `node dist/test/bench/actors-bench.js [N]` (default BENCH_ACTORS_MESSAGES or 200,000).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { StreamExecutionEnvironment, type KeyedProcessFunction } from "../../src/sdk/index.js";
import { ActorApplicationBuilder, defineActor, remoteActor, type Address } from "../../src/actor-sdk/index.js";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { runLocally } from "../helpers/local-runtime.js";
import { startTestNats } from "../helpers/nats-server.js";

const KEYS = 1_000;
const PREFIX = "bench";

const now = () => performance.timeOrigin + performance.now();

const counter = (type: string, next?: string) =>
  defineActor<{ n: number }, { t: number }>({
    type,
    initialState: { n: 0 },
    onMessage(ctx, m) {
      ctx.state.n++;
      if (next) ctx.send({ type: next, id: ctx.self.id }, m);
    },
  });

/** Runs `build`'s job to its end; answers CPU and wall seconds. */
async function timed(nc: NatsConnection, build: (env: StreamExecutionEnvironment) => void): Promise<{ cpuS: number; wallS: number }> {
  const env = new StreamExecutionEnvironment("actors bench", { parallelism: 1 });
  build(env);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await runLocally(env.build(), { nc, prefix: PREFIX }, 1_800_000);
  const c = process.cpuUsage(c0);
  return { cpuS: (c.user + c.system) / 1e6, wallS: (performance.now() - t0) / 1000 };
}

function localActors(env: StreamExecutionEnvironment, n: number): void {
  const app = new ActorApplicationBuilder("Counters")
    .withIngress(
      env.fromGenerator(n, (i) => i),
      (i) => ({ to: { type: "a", id: String(i % KEYS) }, body: { t: 0 } }),
    )
    .withActor(counter("a", "b"), counter("b"))
    .withEgress("none")
    .build();
  app.egress("none").discard();
}

function keyedBaseline(env: StreamExecutionEnvironment, n: number): void {
  const count: KeyedProcessFunction<string, number, never> = {
    processElement(_v, ctx) {
      const s = ctx.state.getValueState<number>("n");
      s.update((s.value() ?? 0) + 1);
    },
  };
  env
    .fromGenerator(2 * n, (i) => i)
    .keyBy((i) => `k/${i % KEYS}`)
    .process(count)
    .discard();
}

function remoteActors(env: StreamExecutionEnvironment, n: number): void {
  const app = new ActorApplicationBuilder("Remote")
    .withIngress(
      env.fromGenerator(n, (i) => i),
      (i) => ({ to: { type: "r", id: String(i % KEYS) }, body: { t: 0 } }),
    )
    .withActor(remoteActor("r"))
    .withEgress("none")
    .build();
  app.egress("none").discard();
}

/** `a` → `b` (local) or `a` → `r` (remote) → `c`, at a low rate; the last writes the hop's time in ms. */
function latency(env: StreamExecutionEnvironment, n: number, out: string, remote: boolean): void {
  const stamp = defineActor<null, { t: number }>({
    type: "a",
    initialState: null,
    onMessage(ctx) {
      ctx.send({ type: remote ? "r" : "b", id: ctx.self.id }, { t: now() });
    },
  });
  const receive = (type: string) =>
    defineActor<null, { t: number }>({
      type,
      initialState: null,
      onMessage(ctx, m) {
        ctx.egress("ms", now() - m.t);
      },
    });
  const app = new ActorApplicationBuilder("Latency")
    .withIngress(
      env.fromGenerator(n, (i) => i, { ratePerSecond: 200 }),
      (i) => ({ to: { type: "a", id: String(i % 10) }, body: { t: 0 } }),
    )
    .withActor(stamp, ...(remote ? [remoteActor("r"), receive("c")] : [receive("b")]))
    .withEgress("ms")
    .build();
  app.egress<number>("ms").collectToFile(out);
}

/** A plain responder: counts each message in the state; for the latency run, forwards to `c`. */
function serveRemote(nc: NatsConnection): { requests: number; messages: number } {
  const stats = { requests: 0, messages: 0 };
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  nc.subscribe(`${PREFIX}.fn.r`, {
    callback: (err, msg) => {
      if (err) return;
      const req = JSON.parse(dec.decode(msg.data)) as { address: Address; state: { n: number } | null; messages: Array<{ body: { t: number } }> };
      stats.requests++;
      stats.messages += req.messages.length;
      const send = req.messages.filter((m) => m.body.t > 0).map((m) => ({ to: { type: "c", id: req.address.id }, body: m.body }));
      msg.respond(enc.encode(JSON.stringify({ state: { n: (req.state?.n ?? 0) + req.messages.length }, send })));
    },
  });
  return stats;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function readNumbers(path: string): number[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map(Number)
    .sort((a, b) => a - b);
}

const k = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : `${(v / 1e3).toFixed(1)} K`);

export async function actorsBench(n = Number(process.env.BENCH_ACTORS_MESSAGES ?? 200_000)): Promise<void> {
  const server = await startTestNats();
  const nc = await connectNats(server.url, "actors-bench");
  const fn = await connectNats(server.url, "actors-bench-function");
  const dir = mkdtempSync(join(tmpdir(), "eddy-actors-bench-"));
  try {
    const stats = serveRemote(fn);
    console.log(`Actors (one thread, parallelism 1, ${KEYS} addresses per type; CPU of this process):`);
    // Warm-up of both paths, then the measured runs.
    await timed(nc, (env) => localActors(env, Math.min(n, 20_000)));
    await timed(nc, (env) => keyedBaseline(env, Math.min(n, 20_000)));
    const actors = await timed(nc, (env) => localActors(env, n));
    const keyed = await timed(nc, (env) => keyedBaseline(env, n));
    const actorRate = (2 * n) / actors.cpuS;
    const keyedRate = (2 * n) / keyed.cpuS;
    console.log(`  local messages, one hop each:      ${k(actorRate)} messages/s per core (${(2 * n).toLocaleString()} in ${actors.wallS.toFixed(2)} s)`);
    console.log(`  keyed process function, baseline:  ${k(keyedRate)} records/s per core (${(2 * n).toLocaleString()} in ${keyed.wallS.toFixed(2)} s)`);
    console.log(`  actors / keyed process function:   ${(actorRate / keyedRate).toFixed(2)}`);
    const remoteN = Math.min(n, 100_000);
    const before = { ...stats };
    const remote = await timed(nc, (env) => remoteActors(env, remoteN));
    const requests = stats.requests - before.requests;
    console.log(
      `  remote messages:                   ${k(remoteN / remote.wallS)} messages/s, ${k(requests / remote.wallS)} round trips/s (${(remoteN / requests).toFixed(1)} messages per request; the responder in this process)`,
    );
    for (const remoteHop of [false, true]) {
      const out = join(dir, remoteHop ? "remote.txt" : "local.txt");
      await timed(nc, (env) => latency(env, 1_000, out, remoteHop));
      const ms = readNumbers(out);
      console.log(
        `  ${remoteHop ? "remote hop (a -> r -> c)" : "local hop (a -> b)"} at 200/s:${remoteHop ? "   " : "         "}p50 ${percentile(ms, 50).toFixed(3)} ms, p99 ${percentile(ms, 99).toFixed(3)} ms (${ms.length} messages)`,
      );
    }
  } finally {
    await fn.close();
    await nc.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await actorsBench(process.argv[2] ? Number(process.argv[2]) : undefined);
}
