import { hostname } from "node:os";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { NatsAuth } from "../../src/rpc/nats.js";
import { Actor, requireToken, type CallContext, type MethodSpec } from "../../src/rpc/actor.js";
import { Gateway } from "../../src/rpc/gateway.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import { ErrorCode, FencingTokenError, NotFoundError, ConflictError, EddyError } from "../../src/core/errors.js";
import { Timeouts } from "../../src/core/config.js";
import { sleep } from "../../src/core/time.js";
import type { Logger } from "../../src/core/logger.js";
import type { LeaderInfo, LeaderRetrieval } from "../../src/ha/leader-retrieval.js";
import { s } from "../../src/schema/index.js";
import type { FromWorker } from "../task/protocol.js";
import { AllocationRequest, AttemptRequest, DisconnectResourceManager, RequestSlot, SubmitTask } from "./protocol.js";
import { SlotWorkers } from "./slot-workers.js";
import { BundleCache, BundleStore } from "../../src/blob/index.js";
import { TaskSlotTable, type TaskSlot } from "./task-slot-table.js";
import { LivenessMarker } from "../resourcemanager/liveness.js";
import { metricsEnabled } from "../../src/metrics/index.js";
import { TaskExecutorMetricsReporter } from "./metrics-reporter.js";

/** How long a task's state report is retried while the JobMaster cannot be reached. */
const STATE_REPORT_DEADLINE_MS = 60_000;

/** Settings of a TaskExecutor. */
export interface TaskExecutorOptions {
  id: string;
  slots: number;
  natsUrl: string;
  natsAuth?: NatsAuth;
  prefix: string;
}

/**
 * A worker node (Flink's TaskExecutor): registers its slots with the leading ResourceManager and
 * heartbeats slot reports; allocates a slot when the ResourceManager asks and offers it to the
 * job's JobMaster; runs the tasks a JobMaster submits on the slot's worker thread and forwards
 * their state changes. It accepts slot requests only from the ResourceManager session it is
 * registered with, and task calls only from the JobMaster session that holds the slot.
 */
export class TaskExecutor extends Actor {
  readonly address: string;
  readonly id: string;
  private readonly table: TaskSlotTable;
  private readonly workers: SlotWorkers;
  private rm: LeaderInfo | undefined;
  /** The session of the last ResourceManager leader followed (kept while no leader is published). */
  private servedSession: string | undefined;
  private registered = false;
  private liveness: Subscription | undefined;
  private readonly marker: LivenessMarker;
  /** Heartbeat interval the ResourceManager asked for when this TaskExecutor registered. */
  private heartbeatMs: number = Timeouts.heartbeatInterval;
  /** Aborted on stop: state reports stop retrying. */
  private readonly reporting = new AbortController();
  private readonly registeredOnce: Promise<void>;
  /** Absent when metrics are off (EDDY_METRICS=off). */
  private metrics: TaskExecutorMetricsReporter | undefined;
  private resolveRegistered!: () => void;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly rmRetrieval: LeaderRetrieval,
    private readonly opts: TaskExecutorOptions,
    log: Logger,
  ) {
    super();
    this.id = opts.id;
    this.address = subjects.taskExecutor(opts.id);
    this.log = log.child({ actor: "TaskExecutor", taskExecutor: opts.id });
    this.table = new TaskSlotTable(opts.slots);
    this.workers = new SlotWorkers(
      {
        natsUrl: opts.natsUrl,
        natsAuth: opts.natsAuth,
        prefix: opts.prefix,
        taskExecutorId: opts.id,
        logLevel: process.env.EDDY_LOG_LEVEL ?? "info",
        metrics: metricsEnabled(),
        slots: opts.slots,
      },
      (slot, m) => this.post(() => this.fromWorker(slot, m)),
      this.log,
      // Job bundles, fetched once per TaskExecutor into a directory of its own (removed on stop).
      new BundleCache(() => BundleStore.open(nc, subjects), { name: `eddy-bundles-${opts.id}-`, log: this.log }),
    );
    this.marker = new LivenessMarker(nc, subjects, opts.id, this.log, opts.natsAuth?.inboxPrefix);
    this.registeredOnce = new Promise((r) => (this.resolveRegistered = r));
  }

  /** Resolves once registered with a ResourceManager. */
  get registration(): Promise<void> {
    return this.registeredOnce;
  }

  async start(): Promise<void> {
    this.workers.start(this.opts.slots);
    this.serve(this.nc, { service: { role: "taskexecutor", metadata: { taskexecutor_id: this.id } } });
    // The ResourceManager's liveness probe, answered on the bare address without decoding, fencing
    // or the mailbox: it runs several times a second, and its point is the "no responders" NATS
    // answers at once when this process's connection is gone.
    this.liveness = this.nc.subscribe(this.address, { callback: (_err, m) => void m.respond() });
    // Made while registering: until it exists, the ResourceManager's periodic probe covers this process.
    this.background(this.marker.start());
    this.rmRetrieval.onChange((l) => this.post(() => this.leaderChanged(l)));
    await this.runInMailbox(() => this.leaderChanged(this.rmRetrieval.leader));
    this.scheduleHeartbeat();
    if (metricsEnabled()) {
      const slots = () => ({ total: this.table.slots.length, free: this.table.freeCount });
      this.metrics = new TaskExecutorMetricsReporter(this.nc, this.subjects, this.id, slots, this.log);
    }
    this.log.info({ slots: this.opts.slots }, "TaskExecutor started");
  }

  protected methods(): Record<string, MethodSpec> {
    const fromRm = (ctx: CallContext) => requireToken(ctx.token, this.rm?.sessionId, `TaskExecutor ${this.id} (ResourceManager session)`);
    const fromSlotOwner = (ctx: CallContext, body: unknown) =>
      requireToken(ctx.token, this.slotOf(body as { allocationId: string }).jobMasterToken, `TaskExecutor ${this.id} (JobMaster session)`);
    const fromTaskOwner = (ctx: CallContext, body: unknown) => {
      const slot = this.table.byTask((body as { attemptId: string }).attemptId);
      if (!slot) throw new NotFoundError(ErrorCode.TaskNotFound, `no task ${(body as { attemptId: string }).attemptId} on ${this.id}`);
      requireToken(ctx.token, slot.jobMasterToken, `TaskExecutor ${this.id} (JobMaster session)`);
    };
    return {
      requestSlot: { fence: fromRm, parse: s.parser(RequestSlot), handle: (b: RequestSlot) => this.requestSlot(b) },
      submitTask: { fence: fromSlotOwner, parse: s.parser(SubmitTask), handle: (b: SubmitTask) => this.submitTask(b) },
      cancelTask: {
        fence: fromTaskOwner,
        parse: s.parser(AttemptRequest),
        handle: (b: { attemptId: string }) => {
          const slot = this.table.byTask(b.attemptId)!;
          this.workers.send(slot.index, { type: "cancel", attemptId: b.attemptId });
          return { ok: true };
        },
      },
      // A liveness check for tools (the ResourceManager probes the bare address, see start()).
      ping: { fence: fromRm, handle: () => ({ ok: true }) },
      disconnectResourceManager: {
        fence: fromRm,
        parse: s.parser(DisconnectResourceManager),
        handle: (b: DisconnectResourceManager) => {
          this.releaseAllSlots(`the ResourceManager declared this TaskExecutor lost (${b.reason}): its tasks were failed over elsewhere; slots released`);
          this.registered = false;
          return { ok: true };
        },
      },
      freeSlot: { fence: fromSlotOwner, parse: s.parser(AllocationRequest), handle: (b: { allocationId: string }) => this.freeSlot(this.slotOf(b)) },
    };
  }

  private slotOf(body: { allocationId: string }): TaskSlot {
    const slot = this.table.byAllocation(body.allocationId);
    if (!slot) throw new NotFoundError(ErrorCode.SlotNotFound, `TaskExecutor ${this.id} has no slot allocation ${body.allocationId}`);
    return slot;
  }

  private requestSlot(b: RequestSlot) {
    const slot = this.table.slots[b.slotIndex];
    if (!slot) throw new NotFoundError(ErrorCode.SlotNotFound, `TaskExecutor ${this.id} has no slot ${b.slotIndex}`);
    if (slot.allocationId && slot.allocationId !== b.allocationId)
      throw new ConflictError(ErrorCode.SlotAllocationFailed, `slot ${b.slotIndex} of ${this.id} is already allocated`);
    this.table.allocate(b.slotIndex, b.allocationId, b.jobId, b.jobMasterToken);
    this.metrics?.slotsChanged();
    this.log.info({ slot: b.slotIndex, jobId: b.jobId, allocationId: b.allocationId }, "slot allocated");
    // The thread starts while the slot is offered, so the deployment that follows finds it (nearly) up.
    this.workers.prestart(b.slotIndex);
    this.background(this.offerSlot(slot, b.jobId, b.jobMasterToken));
    return { ok: true };
  }

  private async offerSlot(slot: TaskSlot, jobId: string, token: string): Promise<void> {
    const allocationId = slot.allocationId!;
    const jm = new Gateway(this.nc, this.subjects.jobMaster(jobId), { token, sender: this.id });
    try {
      const r = await jm.ask<{ accepted: string[] }>("offerSlots", { taskExecutorId: this.id, slots: [{ allocationId, slotIndex: slot.index }] });
      if (!r.accepted.includes(allocationId)) throw new EddyError(ErrorCode.SlotAllocationFailed, "offer declined");
    } catch (err) {
      this.log.warn({ err, jobId, allocationId }, "slot offer failed; freeing the slot");
      await this.runInMailbox(() => {
        if (slot.allocationId === allocationId) this.freeSlot(slot);
      });
    }
  }

  private submitTask(tdd: SubmitTask) {
    const slot = this.slotOf(tdd);
    if (slot.jobId !== tdd.jobId) throw new FencingTokenError(`slot ${tdd.allocationId} belongs to another job`);
    if (slot.tasks.has(tdd.attemptId)) throw new ConflictError(ErrorCode.SlotAllocationFailed, `attempt ${tdd.attemptId} is already deployed`);
    slot.tasks.set(tdd.attemptId, { jobId: tdd.jobId });
    this.workers.send(slot.index, { type: "submit", tdd, jobMasterToken: slot.jobMasterToken! });
    this.log.info({ task: `${tdd.vertexName} (${tdd.subtaskIndex + 1}/${tdd.parallelism})`, attemptId: tdd.attemptId, slot: slot.index }, "task submitted");
    return { ok: true };
  }

  private freeSlot(slot: TaskSlot) {
    const allocationId = slot.allocationId;
    for (const attemptId of slot.tasks.keys()) this.workers.send(slot.index, { type: "cancel", attemptId });
    this.table.free(slot);
    this.metrics?.slotsChanged();
    if (allocationId && this.rm && this.registered) {
      new Gateway(this.nc, this.subjects.resourceManager, { token: this.rm.sessionId }).tell("notifySlotAvailable", {
        taskExecutorId: this.id,
        allocationId,
      });
    }
    return { ok: true };
  }

  private fromWorker(slotIndex: number, m: FromWorker): void {
    if (m.type === "metrics") {
      this.metrics?.fromSlot(slotIndex, m.lagMs, m.tasks);
      return;
    }
    if (m.type !== "state") return;
    const slot = this.table.slots[slotIndex]!;
    const final = m.state === "FINISHED" || m.state === "FAILED" || m.state === "CANCELED";
    const token = slot.jobMasterToken;
    if (final) slot.tasks.delete(m.attemptId);
    if (!token || slot.jobId !== m.jobId) return; // the slot was freed: nobody to report to
    const jm = new Gateway(this.nc, this.subjects.jobMaster(m.jobId), { token, sender: this.id });
    const body = {
      attemptId: m.attemptId,
      state: m.state,
      ...(m.failure ? { failure: m.failure } : {}),
      ...(m.accumulators ? { accumulators: m.accumulators } : {}),
    };
    // Still the JobMaster session that holds the slot: a report to a former one is pointless.
    const current = () => slot.jobMasterToken === token && slot.jobId === m.jobId;
    // Sent at once, not after the previous report's answer: one connection's messages arrive in
    // order, and the JobMaster ignores a report its attempt is past (a retried one) and passes
    // through the states of one it has not had yet.
    this.reportState(jm, body, current).catch((err) => this.log.warn({ err, attemptId: m.attemptId, state: m.state }, "state report failed"));
  }

  /**
   * Sends one state report, again while it finds nobody or gets no answer (the JobMaster's or this
   * process's NATS connection may be re-establishing itself after its server's loss), up to
   * {@link STATE_REPORT_DEADLINE_MS}: a lost final state would leave the JobMaster waiting for a task
   * that ended. A repeated report is harmless (the JobMaster ignores a state an attempt already has);
   * each attempt waits the full RPC timeout, so a JobMaster that is merely busy is not sent copies.
   */
  private async reportState(jm: Gateway, body: { attemptId: string; state: string }, current: () => boolean): Promise<void> {
    const deadline = Date.now() + STATE_REPORT_DEADLINE_MS;
    for (let delay = 200; ; delay = Math.min(2 * delay, 2_000)) {
      try {
        await jm.ask("updateTaskExecutionState", body, { timeoutMs: Timeouts.rpc });
        return;
      } catch (err) {
        const transient = err instanceof EddyError && (err.code === ErrorCode.NoResponders || err.code === ErrorCode.RpcTimeout);
        if (!transient || !current() || this.reporting.signal.aborted || Date.now() + delay > deadline) throw err;
        this.log.debug({ err, attemptId: body.attemptId, state: body.state }, "state report not delivered; retrying");
        await sleep(delay, this.reporting.signal).catch(() => undefined); // aborted: the loop's next check gives up
      }
    }
  }

  private async leaderChanged(l: LeaderInfo | undefined): Promise<void> {
    if (l?.sessionId === this.rm?.sessionId && this.registered) return;
    if (l && this.servedSession && l.sessionId !== this.servedSession)
      this.releaseAllSlots(`new ResourceManager leader ${l.id}: slots of the former term released`);
    if (l) this.servedSession = l.sessionId;
    this.rm = l;
    this.registered = false;
    if (l) await this.register();
  }

  /**
   * Cancels every task and frees every slot, before registering again. Two events call for it: a new
   * ResourceManager session (a new JobManager term: every JobMaster of the former term is gone and its
   * jobs are recovered under new sessions), and the ResourceManager no longer knowing this
   * TaskExecutor (it declared it lost, so the JobMasters already failed its tasks over elsewhere: what
   * still runs here is a zombie of an old attempt, Flink's stale JobManager connection). Either way
   * nothing of the slots' former owners may run on, and the ResourceManager must see them free.
   */
  private releaseAllSlots(why: string): void {
    let freed = 0;
    for (const slot of this.table.slots) {
      if (!slot.allocationId) continue;
      for (const attemptId of slot.tasks.keys()) this.workers.send(slot.index, { type: "cancel", attemptId });
      slot.tasks.clear();
      this.table.free(slot);
      this.metrics?.slotsChanged();
      freed++;
    }
    this.log.info({ freed }, why);
  }

  /**
   * The next heartbeat, at the interval the ResourceManager asked for at registration (its heartbeat
   * timeout over four: loss of a process is detected by its probes, not by heartbeats); while not
   * registered, the next registration attempt, after {@link Timeouts.heartbeatInterval}.
   */
  private scheduleHeartbeat(): void {
    if (this.isStopped) return;
    this.schedule(this.registered ? this.heartbeatMs : Timeouts.heartbeatInterval, async () => {
      try {
        await this.heartbeat();
      } finally {
        this.scheduleHeartbeat();
      }
    });
  }

  private async register(): Promise<void> {
    if (!this.rm) return;
    const rm = new Gateway(this.nc, this.subjects.resourceManager, { token: this.rm.sessionId, sender: this.id });
    try {
      const r = await rm.ask<{ heartbeatIntervalMs?: number }>("registerTaskExecutor", {
        taskExecutorId: this.id,
        pid: process.pid,
        host: hostname(),
        slots: this.table.report(),
      });
      this.heartbeatMs = typeof r.heartbeatIntervalMs === "number" && r.heartbeatIntervalMs > 0 ? r.heartbeatIntervalMs : Timeouts.heartbeatInterval;
      this.registered = true;
      this.resolveRegistered();
      this.log.info({ resourceManager: this.rm.id }, "registered at ResourceManager");
    } catch (err) {
      this.log.warn({ err }, "registration failed; retrying");
    }
  }

  /**
   * One heartbeat with the slot report, one-way as Flink's heartbeat payloads: an idle cluster's CPU
   * is mostly its messages. The ResourceManager answers only a heartbeat it cannot take, with
   * disconnectResourceManager; a new ResourceManager session comes through the leader retrieval.
   */
  private async heartbeat(): Promise<void> {
    if (!this.rm) return;
    if (!this.registered) return this.register();
    try {
      new Gateway(this.nc, this.subjects.resourceManager, { token: this.rm.sessionId, sender: this.id }).tell("heartbeat", {
        taskExecutorId: this.id,
        slots: this.table.report(),
      });
    } catch (err) {
      // A closed connection: the next heartbeat tries again, and the ResourceManager's timeout decides.
      this.log.debug({ err }, "heartbeat failed");
    }
  }

  /** Tells the ResourceManager goodbye, stops every task and worker thread. */
  async stop(): Promise<void> {
    this.reporting.abort();
    this.metrics?.stop();
    this.liveness?.unsubscribe();
    if (this.rm && this.registered) {
      await new Gateway(this.nc, this.subjects.resourceManager, { token: this.rm.sessionId })
        .ask("disconnectTaskExecutor", { taskExecutorId: this.id, reason: "TaskExecutor shut down" }, { timeoutMs: 1_000 })
        .catch((err: unknown) => this.log.debug({ err }, "the ResourceManager missed the disconnect; its heartbeat times out instead"));
    }
    await this.marker.stop();
    await this.stopActor();
    await this.workers.stop();
  }
}
