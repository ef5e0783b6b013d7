/**
 * The feedback channel of an actor application spread over subtasks (Flink StateFun's feedback
 * channel): actor messages for addresses that subtask i owns travel on a hash edge from the actors'
 * vertex to the feedback vertex, whose subtask i hands them to the actors' subtask i through this
 * object. Both run in the same slot thread (they share a co-location group), so the hand-off is a
 * queue in memory.
 *
 * Messages in flight on that loop belong to the checkpoint (Chandy–Lamport, as StateFun logs its
 * feedback channel): when the actors' subtask takes checkpoint n it starts a log here of every message
 * it takes; when the feedback subtask aligns barrier n (every message sent before each actors'
 * subtask's snapshot has then arrived), the log of n plus what still waits here is what checkpoint n
 * must deliver again after a restore. Probes of the termination protocol travel the same way but are
 * never checkpointed.
 */
import { MessageQueue } from "./message-queue.js";
import type { Envelope } from "./types.js";

/** A termination probe: subtask `from` was passive at round `round`; `quiet` when it had done nothing since its previous probe. */
export interface Probe {
  probe: number;
  from: number;
  quiet: boolean;
}

export type FeedbackItem = Envelope | Probe;

export function isProbe(x: FeedbackItem): x is Probe {
  return (x as Probe).probe !== undefined;
}

export class FeedbackChannel {
  private readonly items = new MessageQueue<FeedbackItem>();
  private envelopes = 0;
  /** Per checkpoint the actors' subtask took and the feedback subtask has not aligned yet: what was taken since. */
  private readonly logs = new Map<number, Envelope[]>();
  /** Called when something arrives (the actors' subtask wakes up). */
  onData: (() => void) | undefined;

  constructor(readonly attemptNumber: number) {}

  /** Messages (not probes) waiting. */
  get waiting(): number {
    return this.envelopes;
  }

  get length(): number {
    return this.items.length;
  }

  push(x: FeedbackItem): void {
    this.items.push(x);
    if (!isProbe(x)) this.envelopes++;
    this.onData?.();
  }

  take(): FeedbackItem | undefined {
    const x = this.items.shift();
    if (x === undefined) return undefined;
    if (!isProbe(x)) {
      this.envelopes--;
      for (const log of this.logs.values()) log.push(x);
    }
    return x;
  }

  /** The actors' subtask took checkpoint `checkpointId`: log what it takes from now on. */
  startLog(checkpointId: number): void {
    this.logs.set(checkpointId, []);
  }

  /** Checkpoint `checkpointId` was given up: its log is dropped. */
  dropLog(checkpointId: number): void {
    this.logs.delete(checkpointId);
  }

  /**
   * The feedback subtask aligned barrier `checkpointId`: the messages checkpoint `checkpointId` must
   * deliver again (taken since the actors' snapshot, then those still waiting). Logs of it and older
   * checkpoints end.
   */
  endLog(checkpointId: number): Envelope[] {
    const out = this.logs.get(checkpointId)?.slice() ?? [];
    for (const id of [...this.logs.keys()]) if (id <= checkpointId) this.logs.delete(id);
    for (const x of this.items.toArray()) if (!isProbe(x)) out.push(x);
    return out;
  }
}

/**
 * The co-location group whose channel a dispatch or feedback vertex config uses (`config.group`), or
 * undefined: validation matches it against the JobGraph's declared feedback edge.
 */
export function feedbackGroupOf(config: Record<string, unknown>): string | undefined {
  return typeof config.group === "string" ? config.group : undefined;
}

/** The channels of this thread, by `<job>/<group>/<subtask>`. */
const channels = new Map<string, FeedbackChannel>();

/**
 * The channel of subtask `subtaskIndex` of co-location group `group` of job `jobId`, for an attempt
 * numbered `attemptNumber`: a newer attempt (after a failover both tasks restart) gets a fresh one.
 */
export function feedbackChannel(jobId: string, group: string, subtaskIndex: number, attemptNumber: number): FeedbackChannel {
  const key = `${jobId}/${group}/${subtaskIndex}`;
  let ch = channels.get(key);
  if (!ch || ch.attemptNumber < attemptNumber) channels.set(key, (ch = new FeedbackChannel(attemptNumber)));
  return ch;
}

/** Forgets the channel (its tasks ended). */
export function releaseFeedbackChannel(jobId: string, group: string, subtaskIndex: number, ch: FeedbackChannel): void {
  const key = `${jobId}/${group}/${subtaskIndex}`;
  if (channels.get(key) === ch) channels.delete(key);
}
