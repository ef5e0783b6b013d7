/**
 * A pipeline on NATS end to end, as a user runs it: examples/orders-payments.ts reads two JetStream
 * streams, joins payments with their orders in event time (interval join) and writes the matches to a
 * JetStream stream, submitted with `eddy run -D ...` to a secured process cluster. The output stream
 * holds each match of an independent nested-loop evaluation exactly once.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { unpackData } from "../../src/codec/codec.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { runEddy } from "../helpers/eddy-process.js";
import { streamPayloads } from "../helpers/stream-messages.js";
import { PAYMENT_WINDOW_MS, type Order, type Paid, type Payment } from "../../examples/orders-payments.js";

let cluster: ProcessCluster;
before(async () => {
  cluster = await startProcessCluster({ taskExecutors: 2, slots: 2 });
});
after(async () => {
  await cluster?.stop();
});

/** Orders every second; payments 0 to 14 minutes after theirs (some too late), some for no order; slightly out of order. */
function events(): { orders: Order[]; payments: Payment[] } {
  const base = Date.UTC(2026, 0, 1);
  const orders: Order[] = Array.from({ length: 300 }, (_, i) => ({ id: `o${i}`, user: `u${i % 7}`, ts: base + i * 1_000 }));
  const payments: Payment[] = [];
  for (const [i, o] of orders.entries()) {
    if (i % 5 === 4) continue; // never paid
    payments.push({ order: o.id, amount: 10 + (i % 13), ts: o.ts + ((i * 37) % 15) * 60_000 + (i % 3) * 1_000 });
    if (i % 11 === 0) payments.push({ order: o.id, amount: 1, ts: o.ts + 30_000 }); // paid twice
  }
  for (let i = 0; i < 20; i++) payments.push({ order: `x${i}`, amount: 5, ts: base + i * 10_000 });
  payments.sort((a, b) => a.ts - b.ts);
  // Out of order within the job's bound (5 s): neighbours at most 3 s apart swap places.
  for (const list of [orders, payments] as Array<Array<{ ts: number }>>)
    for (let i = 1; i < list.length; i += 2) if (list[i]!.ts - list[i - 1]!.ts <= 3_000) [list[i - 1], list[i]] = [list[i]!, list[i - 1]!];
  return { orders, payments };
}

/** The answer by definition: every payment with its order, paid 0 to 10 minutes (inclusive) after it. */
function expected(orders: Order[], payments: Payment[]): string[] {
  const out: string[] = [];
  for (const o of orders)
    for (const p of payments)
      if (p.order === o.id && p.ts - o.ts >= 0 && p.ts - o.ts <= PAYMENT_WINDOW_MS) out.push(JSON.stringify([o.id, o.user, p.amount, p.ts - o.ts]));
  return out.sort();
}

test("orders joined with their payments from JetStream land in JetStream exactly once (eddy run -D, secured cluster)", async () => {
  const p = cluster.prefix;
  const jsm = await jetstreamManager(cluster.nc);
  const js = jetstream(cluster.nc);
  // The operator makes the streams: a secured cluster's workers create none.
  for (const name of ["orders", "payments", "paid"]) await jsm.streams.add({ name: `${p}_${name}`, subjects: [`${p}.${name}`] });
  const { orders, payments } = events();
  for (const o of orders) await js.publish(`${p}.orders`, JSON.stringify(o));
  for (const x of payments) await js.publish(`${p}.payments`, JSON.stringify(x));

  const r = await runEddy(
    [
      "run",
      "examples/orders-payments.ts",
      "--parallelism",
      "2",
      "-D",
      "execution.checkpointing.interval=200ms",
      "-D",
      "restart-strategy.type=fixed-delay",
      "--",
      "--orders",
      `${p}_orders`,
      "--payments",
      `${p}_payments`,
      "--out-stream",
      `${p}_paid`,
      "--out-subject",
      `${p}.paid`,
      "--bounded",
    ],
    { natsUrl: cluster.natsUrl, prefix: p, timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);

  const want = expected(orders, payments);
  assert.ok(want.length > 100 && want.length < payments.length, `a real join: ${want.length} of ${payments.length} payments match`);
  const stored = (await jsm.streams.info(`${p}_paid`)).state.messages;
  assert.equal(stored, want.length, "the output stream holds each match once");
  const got = (await streamPayloads(cluster.nc, `${p}_paid`)).map((d) => {
    const v = unpackData(d) as Paid;
    return JSON.stringify([v.order, v.user, v.amount, v.paidAfterMs]);
  });
  assert.deepEqual(got.sort(), want);
});
