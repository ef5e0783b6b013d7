/**
 * A pipeline on NATS: orders and payments read from two JetStream streams, each payment joined with
 * its order when it was paid within 10 minutes of the order (an event-time interval join keyed by the
 * order id), written to a JetStream stream exactly once.
 *
 * `eddy run examples/orders-payments.ts [-D execution.checkpointing.interval=1s] -- --orders STREAM
 *  --payments STREAM --out-stream STREAM --out-subject SUBJECT [--bounded]`
 *
 * Orders are JSON `{"id", "user", "ts"}`, payments `{"order", "amount", "ts"}` (ts in ms: event time).
 * Each match is written as `{"order", "user", "amount", "paidAfterMs"}`. With `--bounded` the job
 * reads each stream up to its last message at the start and then ends; without, it follows them.
 * The output stream must exist (a secured cluster's workers create no stream).
 */
import { jobArg, requireJobArg, StreamExecutionEnvironment, Time, WatermarkStrategy, type JobMain } from "eddy";

export interface Order {
  id: string;
  user: string;
  ts: number;
}
export interface Payment {
  order: string;
  amount: number;
  ts: number;
}
export interface Paid {
  order: string;
  user: string;
  amount: number;
  paidAfterMs: number;
}

/** How late a payment may come after its order and still count. */
export const PAYMENT_WINDOW_MS = 10 * 60_000;
/** How far out of order events may arrive on a stream. */
export const OUT_OF_ORDERNESS_MS = 5_000;

const USAGE = "eddy run examples/orders-payments.ts -- --orders STREAM --payments STREAM --out-stream STREAM --out-subject SUBJECT [--bounded]";

const main: JobMain = (args, ctx) => {
  const bounded = args.includes("--bounded");
  const env = new StreamExecutionEnvironment("OrdersPayments", {
    parallelism: ctx.parallelism ?? 1,
    checkpointing: { intervalMs: Number(jobArg(args, "--checkpoint-interval") ?? 1_000) },
  });
  const orders = env.fromJetStream<Order>({
    stream: requireJobArg(args, "--orders", USAGE),
    bounded,
    watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Order>(OUT_OF_ORDERNESS_MS).withTimestampAssigner((o) => o.ts),
  });
  const payments = env.fromJetStream<Payment>({
    stream: requireJobArg(args, "--payments", USAGE),
    bounded,
    watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Payment>(OUT_OF_ORDERNESS_MS).withTimestampAssigner((p) => p.ts),
  });
  orders
    .keyBy((o) => o.id)
    .intervalJoin(payments.keyBy((p) => p.order))
    .between(0, Time.milliseconds(PAYMENT_WINDOW_MS))
    .process<Paid>({
      processElement: (o, p, _ctx, out) => out.collect({ order: o.id, user: o.user, amount: p.amount, paidAfterMs: p.ts - o.ts }),
    })
    .addSink("sink.jetstream", { stream: requireJobArg(args, "--out-stream", USAGE), subject: requireJobArg(args, "--out-subject", USAGE) }, "Sink: JetStream");
  return env.build();
};
export default main;
