import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import { newSessionId } from "../core/ids.js";
import { withTimeout } from "../core/time.js";
import { decode } from "../codec/codec.js";
import { retryTransient } from "../jetstream/index.js";
import { onReconnect } from "../rpc/nats.js";
import { getValue, kvReplicas, openBucket, putValue, type KV } from "./kv.js";

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
  /** The leading JobManager's HTTP address (REST and dashboard), when it serves one. */
  web?: string;
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

/** How often a {@link LeaderRetrieval} reads the published leader besides watching it with replicated buckets, ms. */
const POLL_MS = 1_000;
/** The same on one NATS server, where the watch can only be lost with the connection (then renewed), ms. */
const POLL_MS_SINGLE_SERVER = 15_000;

/** Options of {@link LeaderRetrieval.open}. */
export interface LeaderRetrievalOptions {
  /** Get the published leader this often besides watching it (default 1 s with replicated buckets, 15 s on one server). */
  pollMs?: number;
}

/**
 * Follows the published leader of a component (Flink's LeaderRetrievalService): a KV watch, renewed
 * with a get whenever the NATS connection is re-established, and a get every {@link POLL_MS} where
 * the watch's stream may lose its server while the connection stays (replicated buckets).
 */
export class LeaderRetrieval {
  private current: LeaderInfo | undefined;
  /** The KV revision `current` was read at. */
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private iter: { stop(): void } | undefined;
  private stopReconnect: (() => void) | undefined;
  /** Set while a renewal of the watch is under way (reconnects in a row share it). */
  private rewatching: Promise<void> | undefined;

  private constructor(
    private readonly kv: KV,
    readonly component: LeaderComponent,
  ) {}

  static async open(nc: NatsConnection, bucket: string, component: LeaderComponent, opts: LeaderRetrievalOptions = {}): Promise<LeaderRetrieval> {
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
    // nats.js). On one server that loss is the connection's: the watch is renewed (and the key read)
    // once it is back. With replicated buckets the stream's leader may move under a live connection:
    // a get every second bounds how long a change can go unseen.
    r.stopReconnect = onReconnect(nc, () => void r.rewatch());
    const pollMs = opts.pollMs ?? (kvReplicas(nc) > 1 ? POLL_MS : POLL_MS_SINGLE_SERVER);
    r.timer = setInterval(() => void r.poll(), pollMs);
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

  /** Replaces the watch (its consumer may be gone with the server) and reads the key; retried until it works or stops. */
  private rewatch(): Promise<void> {
    return (this.rewatching ??= (async () => {
      for (let delay = 100; !this.stopped; delay = Math.min(2 * delay, 2_000)) {
        try {
          this.iter?.stop();
          await withTimeout(this.watch(), 5_000, "renewing the leader watch");
          await this.poll();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })().finally(() => (this.rewatching = undefined)));
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
    this.stopReconnect?.();
    this.iter?.stop();
  }
}
