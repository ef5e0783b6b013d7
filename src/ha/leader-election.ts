import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import { newSessionId } from "../core/ids.js";
import { decode } from "../codec/codec.js";
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

/** The leader-scoped components. */
export type LeaderComponent = "dispatcher" | "resourcemanager";

/**
 * Leader election for one component (Flink's LeaderElection). This standalone variant grants
 * leadership at once (one JobManager); the lease-based variant on KV builds on the same contract:
 * `start` resolves with the granted session, `info` is published to the leaders bucket.
 */
export class StandaloneLeaderElection {
  private constructor(
    private readonly kv: KV,
    readonly component: LeaderComponent,
  ) {}

  static async open(nc: NatsConnection, bucket: string, component: LeaderComponent): Promise<StandaloneLeaderElection> {
    return new StandaloneLeaderElection(await openBucket(nc, bucket), component);
  }

  /** Grants leadership to `id` and publishes it. */
  async start(id: string): Promise<LeaderInfo> {
    const info: LeaderInfo = { id, sessionId: newSessionId(), pid: process.pid, host: hostname(), since: Date.now() };
    await putValue(this.kv, this.component, info);
    return info;
  }

  /** Withdraws the published leader if it is still `info`. */
  async stop(info: LeaderInfo): Promise<void> {
    const cur = await getValue<LeaderInfo>(this.kv, this.component);
    if (cur?.value.sessionId === info.sessionId) await this.kv.delete(this.component).catch(() => undefined);
  }
}

/** Follows the published leader of a component (Flink's LeaderRetrievalService), by watching KV. */
export class LeaderRetrieval {
  private current: LeaderInfo | undefined;
  private stopped = false;
  private iter: { stop(): void } | undefined;

  private constructor(
    private readonly kv: KV,
    readonly component: LeaderComponent,
  ) {}

  static async open(nc: NatsConnection, bucket: string, component: LeaderComponent): Promise<LeaderRetrieval> {
    const r = new LeaderRetrieval(await openBucket(nc, bucket), component);
    r.current = (await getValue<LeaderInfo>(r.kv, component))?.value;
    await r.watch();
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
        const next = e.operation === "PUT" && e.value.length ? (decode(e.value) as LeaderInfo) : undefined;
        if (next?.sessionId === this.current?.sessionId) continue;
        this.current = next;
        for (const l of this.listeners) l(next);
      }
    })().catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    this.iter?.stop();
  }
}
