/**
 * Leader election on a JetStream KV lease (Flink's LeaderElectionService with a KV driver in place of
 * ZooKeeper or a Kubernetes Lease). One lease per JobManager process covers all its leader-scoped
 * components (Dispatcher, ResourceManager, the JobMasters), as Flink 1.18's FLIP-285 does with one
 * election per process.
 *
 * Protocol, on a KV bucket whose `max_age` is the lease duration L (one key per lease):
 * - a contender wins by `create` (fails while the key exists). On nats-server 2.9 a key that ages
 *   out sends no watch event, so a contender that lost reads the key and sleeps until its last
 *   write's time plus L (the server's clock; at most L, at least `pollMs`), then tries again; a
 *   watch on the key wakes it at once when the key is deleted (a leader that stops). Without the
 *   watch it polls every `pollMs`;
 * - the leader renews every `renewMs` with a revision-checked `update`; a revision mismatch with
 *   another process's session in the key means it holds the lease: leadership is revoked at once
 *   (with the leader's own session, an earlier renewal landed unanswered: it renews from there);
 * - a leader that has not renewed successfully steps down at `sent + L - marginMs`, where `sent`
 *   is when its last successful renewal (or the create) was SENT. The server wrote that message no
 *   earlier than `sent`, so the key lives until at least `sent + L`: the old leader has stepped
 *   down `marginMs` before anyone else can create the key. Two leaders never act at once as long as
 *   a leader's process is not paused for longer than `marginMs` (the bound every lease has).
 * - a leader that stops deletes the key (revision-checked), so a standby takes over at once.
 *
 * Timing bounds (defaults: L = 6 s on one NATS server, 15 s with replicated buckets): renew every
 * L/5, step down 20% of L before the earliest expiry, standbys retry every 250 ms once the lease can
 * have lapsed. A leader rides out a lease stream that cannot be written for L - L/5 - 20% of L at
 * least (3.6 s at 6 s, 9 s at 15 s). A crashed leader is replaced within L + pollMs (plus the
 * server's expiry sweep); a stopped one at once (the watch), or within pollMs without a watch.
 */
import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";
import { newSessionId } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import { decode, encode } from "../codec/codec.js";
import { isRevisionConflict, retryTransient } from "../jetstream/index.js";
import { kvReplicas } from "./kv.js";

/** Who holds a lease. */
export interface LeaseHolder {
  /** The holder's process-unique id. */
  id: string;
  /** This leadership term's session id (a new one at every grant). */
  sessionId: string;
  pid: number;
  host: string;
  /** When the lease was won (ms since the epoch). */
  since: number;
}

/** What a contender does when leadership is granted and when it is revoked. */
export interface LeaderContender {
  /** Called once per term, in order with `revoke`; the term's session id is `holder.sessionId`. */
  grant(holder: LeaseHolder): Promise<void> | void;
  /** Called when the term ends (lease lost, not renewed in time, or `stop`). Must stop acting at once. */
  revoke(reason: string): Promise<void> | void;
}

/** Timing of a lease. */
export interface LeaseTiming {
  /** Lease duration (the bucket's max_age), ms. Default {@link defaultLeaseMs}: EDDY_LEASE_MS, else 15 s with replicated buckets and 6 s without. */
  leaseMs: number;
  /** Renewal period, ms (default leaseMs / 5). */
  renewMs: number;
  /** How long before the earliest expiry a leader that could not renew steps down, ms (default 20%, at least 200). */
  marginMs: number;
  /** How often a standby tries to win, ms (default 250). */
  pollMs: number;
}

/** The default lease on a single NATS server, ms. */
export const LEASE_MS_SINGLE_SERVER = 6_000;
/**
 * The default lease when the lease bucket is replicated (a NATS cluster), ms: Kubernetes' default
 * lease duration. It must outlast a replicated stream's leader election after a server's loss
 * (measured 3.5-8 s on nats-server 2.9.10, see the benchmarks): with 6 s the JobManager stepped down on
 * nearly every loss of the server leading the lease stream, and every job restarted.
 */
export const LEASE_MS_REPLICATED = 15_000;

/** The lease duration from EDDY_LEASE_MS, else 15 s with replicated buckets and 6 s without. */
export function defaultLeaseMs(replicas = 1): number {
  const v = Number(process.env.EDDY_LEASE_MS);
  if (Number.isFinite(v) && v >= 500) return Math.floor(v);
  return replicas > 1 ? LEASE_MS_REPLICATED : LEASE_MS_SINGLE_SERVER;
}

/** Fills in a lease's timing from its duration. */
export function leaseTiming(leaseMs: number, overrides: Partial<Omit<LeaseTiming, "leaseMs">> = {}): LeaseTiming {
  return {
    leaseMs,
    renewMs: overrides.renewMs ?? Math.floor(leaseMs / 5),
    marginMs: overrides.marginMs ?? Math.max(200, Math.floor(leaseMs * 0.2)),
    pollMs: overrides.pollMs ?? 250,
  };
}

/** Resolves with `p`, or rejects after `ms` (the KV calls have no deadline of their own here). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(t),
  );
}

/** Contends for one lease key and keeps it while it can. See the module comment for the protocol. */
export class LeaseLeaderElection {
  private holder: LeaseHolder | undefined;
  private revision = 0;
  /** performance.now() by which a leader that has not renewed must have stepped down. */
  private deadline = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private contender: LeaderContender | undefined;
  /** Serializes grant and revoke callbacks. */
  private transitions: Promise<void> = Promise.resolve();
  private busy = false;
  /** The watch that wakes a contender when the key is deleted; undefined while there is none. */
  private releases: { stop(): void } | undefined;
  private watching = false;

  private constructor(
    private readonly kv: KV,
    readonly key: string,
    readonly timing: LeaseTiming,
    private readonly candidateId: string,
    private readonly log: Logger,
  ) {}

  /**
   * Opens (creating if absent) the lease bucket with max_age = `leaseMs`. An existing bucket keeps
   * its own max_age, which then is the lease duration (all contenders must agree on it).
   */
  static async open(
    nc: NatsConnection,
    bucket: string,
    key: string,
    candidateId: string,
    log: Logger,
    opts: { leaseMs?: number } & Partial<Omit<LeaseTiming, "leaseMs">> = {},
  ): Promise<LeaseLeaderElection> {
    const wanted = opts.leaseMs ?? defaultLeaseMs(kvReplicas(nc));
    const kvm = new Kvm(nc);
    let kv: KV;
    try {
      kv = await retryTransient(() => kvm.create(bucket, { history: 1, ttl: wanted, replicas: kvReplicas(nc), allow_direct: false }));
    } catch {
      kv = await retryTransient(() => kvm.open(bucket));
    }
    const ttl = (await kv.status()).ttl;
    const leaseMs = ttl > 0 ? ttl : wanted;
    if (leaseMs !== wanted) log.warn({ bucket, wanted, leaseMs }, "the lease bucket exists with another max_age; using it as the lease duration");
    return new LeaseLeaderElection(kv, key, leaseTiming(leaseMs, opts), candidateId, log);
  }

  /** True while this process holds the lease and its deadline has not passed. */
  get leading(): boolean {
    return this.holder !== undefined && performance.now() < this.deadline;
  }

  /** Starts contending; `contender` is granted and revoked leadership from now on. */
  start(contender: LeaderContender): void {
    if (!this.stopped) throw new Error("the leader election is already running");
    this.stopped = false;
    this.contender = contender;
    this.arm(0);
  }

  /**
   * Wakes a contender as soon as the key is deleted (a leader that stopped released it). Started
   * when an acquisition fails and stopped when one succeeds: a leader is not sent its own renewals.
   */
  private async watchReleases(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    try {
      const it = await within(this.kv.watch({ key: this.key }), 5_000, "watching the lease");
      if (this.stopped || this.holder) return it.stop();
      this.releases = it;
      for await (const e of it) {
        if (this.stopped) break;
        if (e.operation !== "PUT" && !this.holder && !this.busy) this.arm(0);
      }
    } catch (err) {
      this.log.debug({ err }, "no watch on the lease: contending by polling");
    } finally {
      this.releases = undefined;
      this.watching = false;
    }
  }

  /**
   * How long a contender that lost may sleep: until the held key's last write plus L, by the
   * server's clock (a clock of ours behind the server's delays the takeover by the difference; the
   * wait is at most L), at least `pollMs`; `pollMs` when the key cannot be read or is not watched.
   */
  private async untilLapse(): Promise<number> {
    if (!this.releases) return this.timing.pollMs;
    const e = await within(this.kv.get(this.key), this.timing.renewMs, "reading the lease").catch(() => null);
    if (e?.operation !== "PUT") return this.timing.pollMs;
    const left = Math.min(e.created.getTime() + this.timing.leaseMs - Date.now(), this.timing.leaseMs);
    return Math.max(this.timing.pollMs, left);
  }

  /** Stops contending; a held lease is revoked and released (deleted) so a standby takes over at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.releases?.stop();
    const held = this.holder;
    if (held) {
      this.endTerm("the leader election stopped");
      await this.transitions;
      await within(this.kv.delete(this.key, { previousSeq: this.revision }), 2_000, "releasing the lease").catch((err: unknown) =>
        this.log.debug({ err }, "lease not released; it expires on its own"),
      );
    } else await this.transitions;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.busy) return;
    this.busy = true;
    try {
      if (this.holder) await this.renew();
      else await this.tryAcquire();
    } finally {
      this.busy = false;
    }
  }

  private async tryAcquire(): Promise<void> {
    const holder: LeaseHolder = { id: this.candidateId, sessionId: newSessionId(), pid: process.pid, host: hostname(), since: Date.now() };
    const sent = performance.now();
    try {
      this.revision = await within(this.kv.create(this.key, encode(holder)), this.timing.renewMs, "acquiring the lease");
    } catch {
      void this.watchReleases();
      return this.arm(await this.untilLapse()); // held by another (or NATS unreachable)
    }
    this.releases?.stop();
    if (this.stopped) {
      await this.kv
        .delete(this.key, { previousSeq: this.revision })
        .catch((err: unknown) => this.log.debug({ err }, "lease not released; it expires on its own"));
      return;
    }
    this.holder = holder;
    this.deadline = sent + this.timing.leaseMs - this.timing.marginMs;
    this.log.info({ key: this.key, sessionId: holder.sessionId, leaseMs: this.timing.leaseMs }, "lease acquired: leading");
    this.transitions = this.transitions.then(async () => {
      try {
        await this.contender!.grant(holder);
      } catch (err) {
        // A leader that could not start its components must not sit on the lease: give it back.
        this.log.error({ err }, "starting the leader's components failed; giving the lease back");
        if (this.holder === holder) {
          const revision = this.revision;
          this.holder = undefined;
          this.deadline = 0;
          await Promise.resolve(this.contender!.revoke("starting the leader's components failed")).catch((err: unknown) =>
            this.log.warn({ err }, "revoking the failed leadership failed"),
          );
          await within(this.kv.delete(this.key, { previousSeq: revision }), 2_000, "releasing the lease").catch((err: unknown) =>
            this.log.debug({ err }, "lease not released; it expires on its own"),
          );
          this.arm(this.timing.pollMs * 4);
        }
      }
    });
    this.arm(this.timing.renewMs);
  }

  private async renew(): Promise<void> {
    const holder = this.holder!;
    const sent = performance.now();
    const budget = this.deadline - sent;
    if (budget <= 0) return this.lose("the lease could not be renewed in time");
    try {
      this.revision = await within(this.kv.update(this.key, encode(holder), this.revision), budget, "renewing the lease");
      this.deadline = sent + this.timing.leaseMs - this.timing.marginMs;
      this.arm(this.timing.renewMs);
    } catch (err) {
      if (this.holder !== holder) return;
      const msg = (err as Error).message ?? String(err);
      // A wrong revision: someone else wrote the key (it expired and was won: stop at once), or an
      // earlier renewal of ours landed though its answer was lost (a NATS server's loss): the key
      // then holds our session; take its revision and renew again (the deadline stays as it is).
      if (isRevisionConflict(err)) {
        const ours = await this.ownRevision(holder, this.deadline - performance.now());
        if (this.holder !== holder) return;
        if (ours === "other") return this.lose(`the lease was taken over: ${msg}`);
        // Unknown (the key could not be read): retried below until the deadline, which comes before
        // anyone else can have won the key.
        if (typeof ours === "number" && ours !== this.revision) {
          this.log.warn({ revision: ours }, "an earlier lease renewal landed though its answer was lost; renewing from its revision");
          this.revision = ours;
          return this.arm(0);
        }
        // The key is at the revision we hold: the refusal was something else; retry as for any failure.
      }
      if (performance.now() >= this.deadline) return this.lose(`the lease could not be renewed in time: ${msg}`);
      this.log.warn({ err: msg }, "renewing the lease failed; retrying before the deadline");
      this.arm(Math.min(this.timing.pollMs, Math.max(0, this.deadline - performance.now())));
    }
  }

  /**
   * The lease key's revision when it still holds `holder`'s session; "other" when it does not (held
   * by another, or gone); "unknown" when it could not be read in `budget` ms.
   */
  private async ownRevision(holder: LeaseHolder, budget: number): Promise<number | "other" | "unknown"> {
    if (budget <= 0) return "unknown";
    try {
      const e = await within(this.kv.get(this.key), budget, "reading the lease");
      if (e?.operation !== "PUT" || e.value.length === 0) return "other";
      return (decode(e.value) as LeaseHolder).sessionId === holder.sessionId ? e.revision : "other";
    } catch {
      return "unknown";
    }
  }

  /** Ends the term and goes back to contending. */
  private lose(reason: string): void {
    this.log.warn({ key: this.key, reason }, "leadership lost");
    this.endTerm(reason);
    // Contend again only after the term's revoke ran (and not before the old lease can have expired).
    void this.transitions.then(() => this.arm(this.timing.pollMs));
  }

  private endTerm(reason: string): void {
    if (!this.holder) return;
    this.holder = undefined;
    this.deadline = 0;
    this.transition(() => this.contender!.revoke(reason));
  }

  private transition(fn: () => Promise<void> | void): void {
    this.transitions = this.transitions.then(fn).catch((err) => this.log.error({ err }, "a leadership transition failed"));
  }
}
