/**
 * Checkpoint barriers through operator chains: the ChainHandoff carries them in-band, each member's
 * input surfaces a barrier after every record before it, and forwarding it through the member's
 * output keeps it in place for the next member.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { ChainHandoff, type ChainInvokable, createChainFactory, InvokableRegistry, builtinInvokables } from "../../src/runtime/invokables/index.js";
import {
  isBarrierEvent,
  isCheckpointAbortEvent,
  isInputBatch,
  type CheckpointBarrier,
  type Invokable,
  type InvokableFactory,
  type RecordInput,
  type RecordOutput,
  type TaskContext,
} from "../../src/runtime/api.js";
import { BarrierError, barrierForwardingInput, NetworkEnvironment } from "../../src/network/index.js";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { createHarness } from "../helpers/task-harness.js";
import { inputOf, outputOf, topology } from "../helpers/network-util.js";
import { runScript, type Step } from "../fixtures/network-barriers-worker.js";

const barrier = (id: number): CheckpointBarrier => ({ checkpointId: id, timestamp: 1000 + id, kind: "CHECKPOINT" });

/** A member context over `input` and `output`, from the task harness. */
function memberCtx(input: RecordInput, output: RecordOutput, signal = new AbortController().signal): TaskContext {
  const h = createHarness();
  return { ...h.ctx, input, output, signal } as TaskContext;
}

/** A RecordOutput that logs records and barriers (a chain's task output or a sink's nothing). */
function loggingOutput(log: unknown[]): RecordOutput & { finished: boolean } {
  const out = {
    finished: false,
    emit: (r: unknown) => void log.push(r),
    isAvailable: () => true,
    available: () => Promise.resolve(),
    flush: () => undefined,
    finish: async () => {
      out.finished = true;
    },
    broadcastBarrier: (b: CheckpointBarrier) => void log.push(`B${b.checkpointId}`),
    broadcastCancelMarker: (id: number) => void log.push(`C${id}`),
  };
  return out;
}

test("handoff: records before, the barrier, records after; next() skips it; it never counts against capacity", async () => {
  const ac = new AbortController();
  const h = new ChainHandoff(4, 1, ac.signal);
  for (let i = 0; i < 6; i++) h.emit(i); // one full batch of 4, two records pending
  h.broadcastBarrier(barrier(1)); // flushes [4, 5] first
  assert.equal(h.queued, 2);
  assert.equal(h.isAvailable(), false, "2 batches queued, capacity 1");
  h.emit(6);
  h.broadcastCancelMarker(2);
  await h.finish();
  const seen: unknown[] = [];
  for (let e = await h.nextEvent(); e !== null; e = await h.nextEvent()) {
    if (isInputBatch(e)) seen.push(e.records);
    else if (isCheckpointAbortEvent(e)) seen.push(`A${e.abort}:${e.reason}`);
    else seen.push(isBarrierEvent(e) ? `B${e.barrier.checkpointId}` : `W${e.watermark}`);
  }
  assert.deepEqual(seen, [[0, 1, 2, 3], [4, 5], "B1", [6], "A2:CANCELED"]);
  assert.throws(() => h.broadcastBarrier(barrier(3)), BarrierError);

  const h2 = new ChainHandoff(100, 4, ac.signal);
  h2.emit("a");
  h2.broadcastBarrier(barrier(1));
  h2.emit("b");
  await h2.finish();
  const a = await h2.next();
  const b = await h2.next();
  assert.deepEqual([a?.records, b?.records, await h2.next()], [["a"], ["b"], null]);
  assert.equal(h2.abortCheckpoint(1), false);
  h.dispose();
  h2.dispose();
});

test("handoff: a barrier reaches a waiting reader directly; a bad barrier is a BarrierError", async () => {
  const ac = new AbortController();
  const h = new ChainHandoff(10, 2, ac.signal);
  const waiting = h.nextEvent();
  h.broadcastBarrier(barrier(7));
  assert.deepEqual(await waiting, { barrier: barrier(7) });
  assert.throws(() => h.broadcastBarrier({ checkpointId: 1.5, timestamp: 0, kind: "CHECKPOINT" }), BarrierError);
  h.closeConsumer();
  h.broadcastBarrier(barrier(8)); // the reader is gone: dropped
  h.dispose();
});

test("chain: source -> identity -> discard, each member snapshotted at its barrier, after exactly the records before it", async () => {
  const ac = new AbortController();
  const h0 = new ChainHandoff(64, 4, ac.signal);
  const h1 = new ChainHandoff(64, 4, ac.signal);
  const N = 5_000;
  const M = 3_000;
  const snapshots: string[] = [];
  // the source: N records, the runtime's trigger (snapshot, then barrier), M records
  let emitted = 0;
  const source = (async () => {
    for (let i = 0; i < N + M; i++) {
      if (i === N) {
        snapshots.push(`source@${emitted}`);
        h0.broadcastBarrier(barrier(1));
      }
      h0.emit(i);
      emitted++;
      if (!h0.isAvailable()) await h0.available();
    }
    await h0.finish();
  })();
  // identity and discard: the built-ins, each reading through the runtime's barrier handling
  const identityOut: unknown[] = [];
  let forwarded = 0;
  const countingH1: RecordOutput = {
    emit: (r) => {
      forwarded++;
      h1.emit(r);
    },
    isAvailable: () => h1.isAvailable(),
    available: () => h1.available(),
    flush: () => h1.flush(),
    finish: () => h1.finish(),
    broadcastBarrier: (b) => h1.broadcastBarrier(b),
    broadcastCancelMarker: (id) => h1.broadcastCancelMarker(id),
  };
  const identityInput = barrierForwardingInput(h0, countingH1, { onBarrier: (b) => void snapshots.push(`identity#${b.checkpointId}@${forwarded}`) });
  const identity = builtinInvokables.get("op.identity")!.create({}).invoke(memberCtx(identityInput, countingH1));
  const discardCtx = memberCtx(
    barrierForwardingInput(h1, loggingOutput(identityOut), { onBarrier: (b) => void snapshots.push(`discard#${b.checkpointId}@${counted()}`) }),
    loggingOutput(identityOut),
  );
  const discardAcc = new Map<string, number>();
  const ctx: TaskContext = { ...discardCtx, accumulator: (name) => ({ add: (n) => void discardAcc.set(name, (discardAcc.get(name) ?? 0) + n) }) };
  const counted = () => discardAcc.get("records") ?? 0;
  const discard = builtinInvokables.get("sink.discard")!.create({}).invoke(ctx);
  await Promise.all([source, identity, discard]);
  assert.deepEqual(snapshots, [`source@${N}`, `identity#1@${N}`, `discard#1@${N}`]);
  assert.equal(counted(), N + M);
  assert.deepEqual(identityOut, ["B1"], "the sink forwarded the barrier to its (empty) output");
  assert.equal(h0.barriersOut, 1);
  assert.equal(h1.barriersOut, 1);
  h0.dispose();
  h1.dispose();
});

/** A member that handles barriers itself: forwards records, logs "<id>#<barrier>@<records so far>", forwards the barrier. */
function barrierAwareMember(id: string, log: string[]): InvokableFactory {
  const create = (): Invokable => ({
    async invoke(ctx) {
      const input = ctx.input;
      assert.ok(input.nextEvent, `member ${id}'s input surfaces checkpoint events`);
      let n = 0;
      for (let e = await input.nextEvent(); e !== null; e = await input.nextEvent()) {
        if (isInputBatch(e)) {
          for (const r of e.records) ctx.output.emit(r);
          n += e.records.length;
          input.recycle(e);
          if (!ctx.output.isAvailable()) await ctx.output.available();
        } else if (isBarrierEvent(e)) {
          log.push(`${id}#${e.barrier.checkpointId}@${n}`);
          assert.ok(ctx.output.broadcastBarrier, `member ${id}'s output carries barriers`);
          ctx.output.broadcastBarrier(e.barrier);
        } else if (isCheckpointAbortEvent(e)) {
          log.push(`${id}:abort${e.abort}`);
          ctx.output.broadcastCancelMarker?.(e.abort);
        }
      }
      await ctx.output.finish();
    },
  });
  return { name: id, description: id, kind: "operator", validate: () => undefined, create };
}

let nats: TestNats;
let nc: NatsConnection;
before(async () => {
  nats = await startTestNats();
  nc = await connectNats(nats.url, "chain-barriers");
});
after(async () => {
  await nc.close();
  await nats.stop();
});

test("chain: network input (2 channels, aligned) -> a -> b -> task output, the barrier in place at every step", async () => {
  const loc = { taskExecutorId: "teA", slotIndex: 0 };
  const env = new NetworkEnvironment({ nc, subjects: new Subjects("eddy-test-chain-barriers"), location: loc });
  const t = topology(
    "cb",
    2,
    1,
    "ALL_TO_ALL",
    "rebalance",
    () => loc,
    () => loc,
  );
  const scripts: Step[][] = [
    [300, { barrier: 1 }, 200, { barrier: 2 }, 100],
    [100, { sleep: 100 }, 100, { barrier: 1 }, 50, { barrier: 2 }, 50],
  ];
  const producers = scripts.map((s, i) =>
    runScript(env.createOutput(t.producers[i]!.attemptId, [outputOf(t, i)], { bufferTimeoutMs: 10, bufferRecords: 32 }), i, s),
  );
  const input = env.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
  const log: string[] = [];
  const reg = new InvokableRegistry([barrierAwareMember("t.a", log), barrierAwareMember("t.b", log)]);
  const chain = createChainFactory(() => reg);
  const config = {
    members: [
      { id: "a", name: "a", invokable: "t.a", config: {} },
      { id: "b", name: "b", invokable: "t.b", config: {} },
    ],
    batchRecords: 16,
    queueBatches: 2,
  };
  chain.validate(config, "cb");
  const inv = chain.create(config) as ChainInvokable;
  const outLog: unknown[] = [];
  const base = memberCtx(input, loggingOutput(outLog));
  // a runtime that binds operators hands each member its own input unchanged (the members handle barriers themselves)
  const ctx = {
    ...base,
    bindOperator: (_id: string, _inv: Invokable, io: { input: RecordInput }) => ({
      input: io.input,
      yield: () => base.yield(),
      keyedState: undefined,
      operatorState: undefined,
    }),
    checkpointing: true,
  } as unknown as TaskContext;
  if (inv.restore) await inv.restore(ctx);
  await Promise.all([inv.invoke(ctx), ...producers]);
  env.close();
  assert.deepEqual(log, ["t.a#1@500", "t.b#1@500", "t.a#2@750", "t.b#2@750"]);
  const marks = outLog.flatMap((x, i) => (typeof x === "string" ? [`${x}@${i}`] : []));
  assert.deepEqual(marks, ["B1@500", "B2@751"]);
  assert.equal(outLog.length, 900 + 2);
  // per producer, records in order, and none of a producer's post-barrier records before the barrier
  for (let p = 0; p < 2; p++) {
    const idx = outLog.flatMap((x, i) => (Array.isArray(x) && x[0] === p ? [i] : []));
    const ns = idx.map((i) => (outLog[i] as [number, number])[1]);
    assert.deepEqual(
      ns,
      Array.from({ length: ns.length }, (_, k) => k),
    );
    const before1 = p === 0 ? 300 : 200;
    assert.ok(idx[before1 - 1]! < 500 && idx[before1]! > 500, `producer ${p} around barrier 1`);
  }
});
