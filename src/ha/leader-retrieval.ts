import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import { newSessionId } from "../core/ids.js";
import { withTimeout } from "../core/time.js";
import { decode } from "../codec/codec.js";
import { retryTransient } from "../jetstream/index.js";
import { getValue, openBucket, putValue, type KV } from "./kv.js";

/** Who leads a component, as published for everyone to follow. */
export interface LeaderInfo {
  /** The leader's process-unique id. */
  id: string;
  /** The leader session id: the fencing token of every message to it. */
  sessionId: string;
  pid: number;
  host: string;
  /** When leadership was granted (ms since the epoch). */
  since: number;
}

/** The leader-scoped components: the Dispatcher, the ResourceManager and each job's JobMaster. */
export type LeaderComponent = "dispatcher" | "resourcemanager" | `jobmaster.${string}`;

/** The published-leader key of job `jobId`'s JobMaster. */
export function jobMasterLeaderKey(jobId: string): LeaderComponent {
  return `jobmaster.${jobId}`;
}

/**
 * Publishes who leads the components of a leadership term (the address book of Flink's leader
 * retrieval), in the `<prefix>_leaders` bucket. Election itself is {@link LeaseLeaderElection}'s.
 */
export class LeaderPublisher {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, bucket: string): Promise<LeaderPublisher> {
    return new LeaderPublisher(await openBucket(nc, bucket));
  }

  /** A fresh LeaderInfo for a component led by process `id` (a new session id: the fencing token). */
  static info(id: string): LeaderInfo {
    return { id, sessionId: newSessionId(), pid: process.pid, host: hostname(), since: Date.now() };
  }

  /** Publishes `info` as the leader of `component`. */
  async publish(component: LeaderComponent, info: LeaderInfo): Promise<void> {
    await retryTransient(() => putValue(this.kv, component, info), 5_000);
  }

  /** Withdraws the published leader of `component` if it is still `info`. */
  async withdraw(component: LeaderComponent, info: LeaderInfo): Promise<void> {
    const cur = await getValue<LeaderInfo>(this.kv, component);
    if (cur?.value.sessionId === info.sessionId) await this.kv.delete(component, { previousSeq: cur.revision }).catch(() => undefined); // a newer leader published meanwhile, or NATS is gone: nothing to withdraw
  }
}

/** How often a {@link LeaderRetrieval} reads the published leader besides watching it, ms. */
const POLL_MS = 1_000;

/** Follows the published leader of a component (Flink's LeaderRetrievalService): a KV watch, and a get every second. */
export class LeaderRetrieval {
  private current: LeaderInfo | undefined;
  /** The KV revision `current` was read at. */
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private iter: { stop(): void } | undefined;

  private constructor(
    private readonly kv: KV,
    readonly component: LeaderComponent,
  ) {}

  static async open(nc: NatsConnection, bucket: string, component: LeaderComponent): Promise<LeaderRetrieval> {
    const r = new LeaderRetrieval(await openBucket(nc, bucket), component);
    // Right after the bucket is created on a NATS cluster its stream may still elect a leader.
    const first = await retryTransient(() => getValue<LeaderInfo>(r.kv, component));
    r.current = first?.value;
    r.revision = first?.revision ?? 0;
    await retryTransient(() => r.watch());
    // nats.js creates the watch's consumer before it subscribes: a leader published in between may be
    // lost to the watch, so read once more now that it listens.
    await r.poll();
    // A watch whose stream's server is lost only notices after two missed idle heartbeats (60 s in
    // nats.js); a get every second bounds how long a change can go unseen.
    r.timer = setInterval(() => void r.poll(), POLL_MS);
    return r;
  }

  /** The leader known now, if any. */
  get leader(): LeaderInfo | undefined {
    return this.current;
  }

  private listeners = new Set<(l: LeaderInfo | undefined) => void>();

  /** Calls `fn` on every change of leader. */
  onChange(fn: (l: LeaderInfo | undefined) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private async watch(): Promise<void> {
    const it = await this.kv.watch({ key: this.component });
    this.iter = it;
    void (async () => {
      for await (const e of it) {
        if (this.stopped) break;
        this.apply(e.operation === "PUT" && e.value.length ? (decode(e.value) as LeaderInfo) : undefined, e.revision);
      }
    })().catch(() => undefined); // the watch ended (connection closed); the poll keeps the view current
  }

  private async poll(): Promise<void> {
    const now = await withTimeout(getValue<LeaderInfo>(this.kv, this.component), POLL_MS, "reading the published leader").catch(() => undefined); // unreadable now: the next poll retries
    if (now) this.apply(now.value, now.revision);
  }

  /** Takes the entry of `revision` unless a later one was seen (the watch and a get may cross). */
  private apply(next: LeaderInfo | undefined, revision: number): void {
    if (this.stopped || revision <= this.revision) return;
    this.revision = revision;
    if (next?.sessionId === this.current?.sessionId) return;
    this.current = next;
    for (const l of this.listeners) l(next);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.iter?.stop();
  }
}
