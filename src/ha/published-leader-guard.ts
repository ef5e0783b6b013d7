/**
 * Keeps a leader's info published for its whole term, as Flink's leader election service writes its
 * leader information again when the store shows another while it leads. A write of a former leader
 * that was still in flight when its term ended (it timed out there and landed later) would otherwise
 * stay the published leader, and every follower (TaskExecutors registering with the ResourceManager)
 * would keep asking a session that no longer exists.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../core/logger.js";
import { kvReplicas } from "./kv.js";
import { type LeaderComponent, type LeaderInfo, type LeaderPublisher, LeaderRetrieval } from "./leader-retrieval.js";

/**
 * How often the guard reads the key besides watching it with replicated buckets, ms (the watch is the
 * fast path; on one server it is renewed with the connection and the retrieval's 15 s poll is enough).
 */
const GUARD_POLL_MS = 5_000;

export class PublishedLeaderGuard {
  private stopped = false;
  private retrieval: LeaderRetrieval | undefined;

  private constructor(
    private readonly publisher: LeaderPublisher,
    private readonly component: LeaderComponent,
    private readonly info: LeaderInfo,
    private readonly stillLeads: () => boolean,
    private readonly log: Logger,
  ) {}

  /**
   * Starts guarding `info` as the published leader of `component` in `bucket` while `stillLeads()`.
   * Returns at once: the watch opens in the background (a failover does not wait for it).
   */
  static start(
    nc: NatsConnection,
    bucket: string,
    publisher: LeaderPublisher,
    component: LeaderComponent,
    info: LeaderInfo,
    stillLeads: () => boolean,
    log: Logger,
  ): PublishedLeaderGuard {
    const g = new PublishedLeaderGuard(publisher, component, info, stillLeads, log);
    LeaderRetrieval.open(nc, bucket, component, kvReplicas(nc) > 1 ? { pollMs: GUARD_POLL_MS } : {}).then(
      (r) => {
        if (g.stopped) return r.stop();
        g.retrieval = r;
        r.onChange((l) => g.check(l));
        g.check(r.leader);
      },
      (err: unknown) => log.warn({ err, component }, "watching the published leader failed; it is not guarded this term"),
    );
    return g;
  }

  /**
   * Writes `info` again over any other published value. Each foreign value costs one write and the
   * leader's own never triggers one, so writes in flight need no bookkeeping: the last to land is
   * judged when the watch delivers it.
   */
  private check(published: LeaderInfo | undefined): void {
    if (this.stopped || published?.sessionId === this.info.sessionId || !this.stillLeads()) return;
    this.log.warn({ component: this.component, published: published?.id ?? null }, "the published leader was changed under this leader: publishing it again");
    this.publisher
      .publish(this.component, this.info)
      .catch((err: unknown) => this.log.warn({ err, component: this.component }, "publishing the leader again failed"));
  }

  /** Stops guarding (before the leader withdraws its info, which must then stay withdrawn). */
  stop(): void {
    this.stopped = true;
    this.retrieval?.stop();
  }
}
