import type { NatsConnection } from "@nats-io/transport-node";
import { Actor, type MethodSpec } from "../../src/rpc/actor.js";
import { Gateway } from "../../src/rpc/gateway.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import { EddyError, ErrorCode, NotFoundError } from "../../src/core/errors.js";
import { Timeouts } from "../../src/core/config.js";
import type { Logger } from "../../src/core/logger.js";
import type { LeaderInfo } from "../../src/ha/leader-retrieval.js";
import { s } from "../../src/schema/index.js";
import { DeclareResources, DisconnectTaskExecutor, Heartbeat, RegisterTaskExecutor, SlotFreed, type TaskExecutorInfo } from "./protocol.js";
import { SlotManager } from "./slot-manager.js";

/** Settings of the ResourceManager. */
export interface ResourceManagerOptions {
  heartbeatTimeoutMs?: number;
  /** How often each TaskExecutor is probed for a closed connection (ms, default 250). */
  probeIntervalMs?: number;
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
  private readonly probeIntervalMs: number;
  /** Consecutive "no responders" answers per TaskExecutor. */
  private readonly unreachable = new Map<string, number>();
  private probing = false;

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
    this.probeIntervalMs = opts.probeIntervalMs ?? 250;
  }

  protected override fencingToken(): string {
    return this.leader.sessionId;
  }

  start(): void {
    this.serve(this.nc);
    this.every(Math.max(100, Math.floor(this.heartbeatTimeoutMs / 4)), () => this.checkHeartbeats());
    this.every(this.probeIntervalMs, () => this.probe());
    this.log.info({ sessionId: this.leader.sessionId }, "ResourceManager leading");
  }

  protected methods(): Record<string, MethodSpec> {
    return {
      registerTaskExecutor: { fence: "leader", parse: s.parser(RegisterTaskExecutor), handle: (b: RegisterTaskExecutor) => this.register(b) },
      heartbeat: {
        fence: "leader",
        parse: s.parser(Heartbeat),
        handle: (b: Heartbeat) => {
          if (!this.slots.report(b.taskExecutorId, b.slots))
            throw new NotFoundError(ErrorCode.UnknownSender, `TaskExecutor ${b.taskExecutorId} is not registered; register again`);
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
    return { ok: true, heartbeatIntervalMs: Timeouts.heartbeatInterval };
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
   * Probes every TaskExecutor. When a TaskExecutor process dies its NATS connection closes and the
   * server drops its subscriptions at once, so the probe gets "no responders" immediately: two in a
   * row (one could be a reconnect in progress) mark it lost, far sooner than the heartbeat timeout.
   */
  private probe(): void {
    if (this.probing) return;
    this.probing = true;
    const ids = [...this.slots.taskExecutors.keys()];
    const probes = ids.map((id) =>
      new Gateway(this.nc, this.subjects.taskExecutor(id), { token: this.leader.sessionId })
        .ask("ping", {}, { timeoutMs: Math.max(1_000, this.probeIntervalMs * 4) })
        .then(
          () => [id, false] as const,
          (err) => [id, err instanceof EddyError && err.code === ErrorCode.NoResponders] as const,
        ),
    );
    this.background(
      Promise.all(probes).then((results) =>
        this.runInMailbox(() => {
          this.probing = false;
          for (const [id, gone] of results) {
            if (!gone) {
              this.unreachable.delete(id);
              continue;
            }
            const n = (this.unreachable.get(id) ?? 0) + 1;
            this.unreachable.set(id, n);
            if (n >= 2) {
              this.unreachable.delete(id);
              this.lose(id, "its NATS connection closed (the process is gone)");
            }
          }
        }),
      ),
    );
  }

  private checkHeartbeats(): void {
    for (const teId of this.slots.expired(this.heartbeatTimeoutMs)) this.lose(teId, `no heartbeat for ${this.heartbeatTimeoutMs} ms`);
  }

  private allocate(): void {
    for (const { taskExecutorId, request } of this.slots.allocate()) {
      const te = new Gateway(this.nc, this.subjects.taskExecutor(taskExecutorId), { token: this.leader.sessionId });
      this.background(
        te.ask("requestSlot", request, { timeoutMs: Timeouts.rpc }).catch((err) =>
          this.runInMailbox(() => {
            this.log.warn({ err, taskExecutor: taskExecutorId, allocationId: request.allocationId }, "slot request failed");
            this.slots.freeSlot(taskExecutorId, request.allocationId);
          }),
        ),
      );
    }
  }

  async stop(): Promise<void> {
    await this.stopActor();
  }
}
