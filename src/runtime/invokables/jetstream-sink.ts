/**
 * `sink.jetstream`: publishes every record (msgpack) to a JetStream subject, exactly once with
 * checkpointing. Records of a checkpoint epoch are held (in operator state at the checkpoint) and
 * published when the checkpoint completes, each with a de-duplication id
 * `<attempt>-<checkpoint>-<n>` (kept with the epoch in state) that is the same however often the commit is retried (after
 * a restore the pending epochs are published again and JetStream drops the duplicates within the
 * stream's duplicate window). At the end of input the last records wait for the task's final
 * checkpoint (FLIP-147), whose completion publishes them. Without checkpointing records are published
 * as they come (at least once).
 * The stream (`stream`, default `EDDY_SINK`) is created for the subject when missing.
 */
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { packData } from "../../codec/codec.js";
import { EddyError, ErrorCode, InternalError } from "../../core/errors.js";
import { isPermissionDenied, retryTransient } from "../../jetstream/index.js";
import type { ListState } from "../../state/api.js";
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { stringSetting } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";

const NAME = "sink.jetstream";
/** Publishes in flight at once. */
const WINDOW = 256;
/** How long a commit retries publishes that fail for a transient reason (a stream electing its leader). */
const COMMIT_RETRY_MS = 30_000;

/** Records of one checkpoint epoch waiting for its checkpoint to complete. */
interface Epoch {
  id: string;
  checkpointId: number;
  records: unknown[];
}

class JetStreamSink implements Invokable {
  private js!: JetStreamClient;
  private pendingState: ListState<Epoch> | undefined;
  /** Epochs snapshotted and not yet published, oldest first. */
  private pending: Epoch[] = [];
  private committing: Promise<void> = Promise.resolve();
  private current: unknown[] = [];

  constructor(
    private readonly subject: string,
    private readonly stream: string,
  ) {}

  async restore(ctx: TaskContext): Promise<void> {
    if (!ctx.nats) throw new InternalError(`${NAME} needs the worker's NATS connection`);
    this.js = jetstream(ctx.nats);
    const jsm = await jetstreamManager(ctx.nats);
    await jsm.streams.info(this.stream).catch(() =>
      jsm.streams.add({ name: this.stream, subjects: [this.subject] }).catch((err: unknown) => {
        // A worker of a secured cluster may create no stream: the operator creates the sink's.
        throw new EddyError(
          isPermissionDenied(err) ? ErrorCode.PermissionDenied : ErrorCode.TaskFailed,
          `${NAME}: the stream ${this.stream} does not exist and this worker may not create it (${(err as Error).message}); create it first, capturing ${this.subject}`,
          { cause: err },
        );
      }),
    );
    if (!ctx.checkpointing) return;
    this.pendingState = ctx.operatorState.getListState<Epoch>("pending");
    // The restored checkpoint completed: publish what it held back (duplicates of an earlier try are dropped).
    for (const e of this.pendingState.get()) await this.publish(e.records, e.id);
    this.pendingState.clear();
  }

  snapshotState(ctx: TaskContext, checkpointId: number): void {
    if (this.current.length) {
      // The attempt id is random: an epoch's id never equals one of another attempt, even when a new
      // JobManager term numbers attempts and checkpoints from where its store says they stood.
      this.pending.push({ id: `${ctx.tdd.attemptId}-${checkpointId}`, checkpointId, records: this.current });
      this.current = [];
    }
    this.pendingState!.update(this.pending);
  }

  /**
   * Publishes the epochs the checkpoint covers, oldest first, each leaving `pending` only once
   * JetStream acknowledged all of it: a publish that fails for good (after retrying through a stream
   * leader's election) fails the task with the epoch still in the state of the completed checkpoint,
   * whose restore publishes it again. Commits run one at a time, in call order.
   */
  notifyCheckpointComplete(_ctx: TaskContext, checkpointId: number): Promise<void> {
    const run = this.committing.then(() => this.commitUpTo(checkpointId));
    this.committing = run.catch(() => undefined); // the failure is the caller's: the task fails on it
    return run;
  }

  private async commitUpTo(checkpointId: number): Promise<void> {
    for (let e = this.pending[0]; e !== undefined && e.checkpointId <= checkpointId; e = this.pending[0]) {
      const epoch = e;
      await retryTransient(() => this.publish(epoch.records, epoch.id), COMMIT_RETRY_MS, { jetStreamKnown: true });
      this.pending.shift();
    }
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.js) await this.restore(ctx);
    const records = ctx.accumulator("records");
    for (let b = await ctx.input.next(); b; b = await ctx.input.next()) {
      if (ctx.checkpointing) for (const r of b.records) this.current.push(r);
      else await this.publish(b.records, undefined);
      records.add(b.records.length);
      ctx.input.recycle(b);
    }
    // With checkpointing, what is left goes out when the final checkpoint (taken next) completes.
    await ctx.output.finish();
  }

  /** Publishes with bounded acks in flight; with `id`, record n gets the de-duplication id `<id>-<n>`. */
  private async publish(records: readonly unknown[], id: string | undefined): Promise<void> {
    const inFlight: Promise<unknown>[] = [];
    for (let n = 0; n < records.length; n++) {
      inFlight.push(this.js.publish(this.subject, packData(records[n]), id === undefined ? undefined : { msgID: `${id}-${n}` }));
      if (inFlight.length >= WINDOW) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
  }
}

/** `sink.jetstream` {subject, stream?}: records to a JetStream subject, exactly once with checkpointing. */
export const jetStreamSink: InvokableFactory = defineInvokable({
  name: NAME,
  description:
    "Publishes each record (msgpack) to a JetStream subject; exactly once with checkpointing (held per checkpoint, published with de-duplication ids on completion). Config {subject, stream?}.",
  kind: "sink",
  keys: ["subject", "stream"],
  settings: (config, vertexId) => ({
    subject: stringSetting(config, "subject", NAME, vertexId),
    stream: config.stream === undefined ? "EDDY_SINK" : stringSetting(config, "stream", NAME, vertexId),
  }),
  create: (s) => new JetStreamSink(s.subject, s.stream),
});
