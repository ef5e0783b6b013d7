import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { Actor, type MethodSpec } from "../../src/rpc/actor.js";
import { Gateway, natsRequestError } from "../../src/rpc/gateway.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import { ErrorCode, NotFoundError } from "../../src/core/errors.js";
import { Timeouts } from "../../src/core/config.js";
import type { Logger } from "../../src/core/logger.js";
import type { LeaderInfo } from "../../src/ha/leader-retrieval.js";
import { s } from "../../src/schema/index.js";
import { DeclareResources, DisconnectTaskExecutor, Heartbeat, RegisterTaskExecutor, SlotFreed, type TaskExecutorInfo } from "./protocol.js";
import { SlotManager } from "./slot-manager.js";
import { ensureLivenessStream, watchLiveness } from "./liveness.js";
import { sleep } from "../../src/core/time.js";
import { metricsEnabled } from "../../src/metrics/index.js";
import { CLUSTER_REPORT_INTERVAL_MS, CLUSTER_UNCHANGED_EVERY, ClusterMetricsPublisher } from "./cluster-metrics.js";

/** Delay between the two probes that confirm a TaskExecutor's loss. */
const CONFIRM_MS = 100;

/** Settings of the ResourceManager. */
export interface ResourceManagerOptions {
  heartbeatTimeoutMs?: number;
}

/**
 * The ResourceManager (Flink's ResourceManager with a declarative SlotManager): TaskExecutors
 * register and heartbeat their slot reports; JobMasters declare how many slots they need; free
 * slots are requested from TaskExecutors, which then offer them to the JobMaster.
 * A fenced actor: every message but registration must carry the leader session id.
 */
export class ResourceManager extends Actor {
  readonly address: string;
  private readonly slots = new SlotManager();
  private readonly heartbeatTimeoutMs: number;
  /** TaskExecutors being probed now (a marker's loss, a late heartbeat): one confirmation each at a time. */
  private readonly confirming = new Set<string>();
  private liveness: Subscription | undefined;
  /** Absent when metrics are off. */
  private cluster: ClusterMetricsPublisher | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    readonly leader: LeaderInfo,
    log: Logger,
    opts: ResourceManagerOptions = {},
  ) {
    super();
    this.address = subjects.resourceManager;
    this.log = log.child({ actor: "ResourceManager" });
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? Timeouts.heartbeatTimeout;
  }

  protected override fencingToken(): string {
    return this.leader.sessionId;
  }

  /**
   * What TaskExecutors are told to heartbeat at: four per heartbeat timeout, at least
   * {@link Timeouts.heartbeatInterval}. Heartbeats carry slot reports and catch a hung process; a
   * process that is gone is found by {@link probe} long before.
   */
  private get heartbeatIntervalMs(): number {
    return Math.max(Timeouts.heartbeatInterval, Math.floor(this.heartbeatTimeoutMs / 4));
  }

  start(): void {
    this.serve(this.nc, { service: { role: "resourcemanager" } });
    this.liveness = watchLiveness(this.nc, this.subjects, (id) =>
      this.post(() => this.confirmGone(id, "its liveness marker was deleted and nobody answers (its NATS connection closed)")),
    );
    // Workers may create no stream (docs/security.md): the liveness stream their markers need is made here.
    ensureLivenessStream(this.nc, this.subjects).catch((err: unknown) =>
      this.log.warn({ err }, "creating the liveness stream failed; TaskExecutors create it or are probed"),
    );
    // One timer for the heartbeat check and the probe of late TaskExecutors: an idle process wakes as rarely as it can.
    this.every(Math.max(100, Math.floor(this.heartbeatTimeoutMs / 4)), () => {
      this.checkHeartbeats();
      this.probe();
    });
    if (metricsEnabled()) {
      const cluster = new ClusterMetricsPublisher(this.nc, this.subjects);
      this.cluster = cluster;
      cluster.republish(this.slots.totals());
      this.every(CLUSTER_REPORT_INTERVAL_MS * CLUSTER_UNCHANGED_EVERY, () => cluster.republish(this.slots.totals()));
    }
    this.log.info({ sessionId: this.leader.sessionId }, "ResourceManager leading");
  }

  protected methods(): Record<string, MethodSpec> {
    return {
      registerTaskExecutor: { fence: "leader", parse: s.parser(RegisterTaskExecutor), handle: (b: RegisterTaskExecutor) => this.register(b) },
      heartbeat: {
        fence: "leader",
        parse: s.parser(Heartbeat),
        handle: (b: Heartbeat) => {
          if (!this.slots.report(b.taskExecutorId, b.slots)) {
            // Heartbeats come one-way: the TaskExecutor learns it is unknown from this message.
            const reason = `TaskExecutor ${b.taskExecutorId} is not registered; register again`;
            new Gateway(this.nc, this.subjects.taskExecutor(b.taskExecutorId), { token: this.leader.sessionId }).tell("disconnectResourceManager", { reason });
            throw new NotFoundError(ErrorCode.UnknownSender, reason);
          }
          this.allocate();
          return { ok: true };
        },
      },
      disconnectTaskExecutor: {
        fence: "leader",
        parse: s.parser(DisconnectTaskExecutor),
        handle: (b: DisconnectTaskExecutor) => this.lose(b.taskExecutorId, b.reason),
      },
      declareRequiredResources: {
        fence: "leader",
        parse: s.parser(DeclareResources),
        handle: (b: DeclareResources) => {
          this.slots.declare(b.jobId, b.jobMasterToken, b.slots);
          this.allocate();
          return { ok: true };
        },
      },
      notifySlotAvailable: {
        fence: "leader",
        parse: s.parser(SlotFreed),
        handle: (b: SlotFreed) => {
          this.slots.freeSlot(b.taskExecutorId, b.allocationId);
          this.allocate();
          return { ok: true };
        },
      },
      listTaskExecutors: { fence: "leader", handle: (): TaskExecutorInfo[] => this.slots.info() },
    };
  }

  /** The registered TaskExecutors (in-process use by the Dispatcher). */
  taskExecutors(): Promise<TaskExecutorInfo[]> {
    return this.runInMailbox(() => this.slots.info());
  }

  private register(b: RegisterTaskExecutor) {
    const known = this.slots.taskExecutors.has(b.taskExecutorId);
    this.slots.register({
      id: b.taskExecutorId,
      pid: b.pid,
      host: b.host,
      slots: b.slots.map((x) => ({ index: x.index, ...(x.allocationId ? { allocationId: x.allocationId } : {}), ...(x.jobId ? { jobId: x.jobId } : {}) })),
    });
    this.log.info({ taskExecutor: b.taskExecutorId, slots: b.slots.length, again: known }, "TaskExecutor registered");
    this.allocate();
    return { ok: true, heartbeatIntervalMs: this.heartbeatIntervalMs };
  }

  private lose(teId: string, reason: string) {
    if (!this.slots.taskExecutors.has(teId)) return { ok: true };
    const jobs = this.slots.unregister(teId);
    this.log.warn({ taskExecutor: teId, reason, jobs }, "TaskExecutor lost");
    for (const jobId of jobs) {
      const token = this.slots.jobMasterToken(jobId);
      if (token) new Gateway(this.nc, this.subjects.jobMaster(jobId), { token }).tell("disconnectTaskManager", { taskExecutorId: teId, reason });
    }
    this.allocate();
    return { ok: true };
  }

  /**
   * TaskExecutor `id` may be gone (its liveness marker was deleted, or its heartbeat is late): two
   * probes {@link CONFIRM_MS} apart that find nobody mark it lost for `reason`; an answer clears it
   * (a reconnect in progress; the TaskExecutor makes its marker again).
   */
  private confirmGone(id: string, reason: string): void {
    if (this.isFencedOff || !this.slots.taskExecutors.has(id) || this.confirming.has(id)) return;
    this.confirming.add(id);
    this.background(
      (async () => {
        try {
          for (let i = 0; i < 2; i++) {
            if (i > 0) await sleep(CONFIRM_MS);
            if (!(await this.unreachableNow(id))) return;
          }
          await this.runInMailbox(() => this.lose(id, reason));
        } finally {
          this.confirming.delete(id);
        }
      })(),
    );
  }

  /** True when a probe of TaskExecutor `id` finds nobody serving it (NATS "no responders"). */
  private unreachableNow(id: string): Promise<boolean> {
    const subject = this.subjects.taskExecutor(id);
    const timeout = Math.max(1_000, CONFIRM_MS * 4);
    // An empty request to the TaskExecutor's bare address, which it answers without any processing.
    return this.nc.request(subject, undefined, { timeout }).then(
      () => false,
      (err: unknown) => natsRequestError(err, subject, timeout).code === ErrorCode.NoResponders,
    );
  }

  /**
   * Probes the TaskExecutors whose heartbeat is late (a heartbeat missed, not yet the timeout). When a
   * TaskExecutor process dies its NATS connection closes and the server drops its subscriptions at
   * once, so the probe gets "no responders" immediately: this finds a dead process whose marker's loss
   * went unseen (or that had none) well before the heartbeat timeout, and asks nothing of a
   * TaskExecutor that heartbeats.
   */
  private probe(): void {
    for (const id of this.slots.expired(this.lateHeartbeatMs)) this.confirmGone(id, "its heartbeat is late and nobody answers (its NATS connection closed)");
  }

  /** A TaskExecutor whose last heartbeat is older than this has missed one, ms. */
  private get lateHeartbeatMs(): number {
    return Math.floor(this.heartbeatIntervalMs * 1.5);
  }

  private checkHeartbeats(): void {
    for (const teId of this.slots.expired(this.heartbeatTimeoutMs)) this.lose(teId, `no heartbeat for ${this.heartbeatTimeoutMs} ms`);
  }

  /** Requests the slots the jobs need from the free ones; every change the ResourceManager handles ends here. */
  private allocate(): void {
    this.allocateSlots();
    this.cluster?.update(this.slots.totals());
  }

  private allocateSlots(): void {
    for (const { taskExecutorId, request } of this.slots.allocate()) {
      const te = new Gateway(this.nc, this.subjects.taskExecutor(taskExecutorId), { token: this.leader.sessionId });
      this.background(
        te.ask("requestSlot", request, { timeoutMs: Timeouts.rpc }).catch((err) =>
          this.runInMailbox(() => {
            this.log.warn({ err, taskExecutor: taskExecutorId, allocationId: request.allocationId }, "slot request failed");
            this.slots.freeSlot(taskExecutorId, request.allocationId);
            this.cluster?.update(this.slots.totals());
          }),
        ),
      );
    }
  }

  async stop(): Promise<void> {
    this.liveness?.unsubscribe();
    await this.stopActor();
  }
}
