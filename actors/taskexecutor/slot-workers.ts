import { availableParallelism } from "node:os";
import { slotWorkerUrl } from "./slot-worker-url.js";
import { Worker } from "node:worker_threads";
import type { Logger } from "../../src/core/logger.js";
import { EddyError, ErrorCode, InternalError, failureInfo, toEddyError } from "../../src/core/errors.js";
import type { BundleCache } from "../../src/blob/index.js";
import { withTimeout } from "../../src/core/time.js";
import { LocalExchangeBroker } from "../../src/network/index.js";
import type { FromWorker, SlotWorkerData, ToWorker } from "../task/protocol.js";

/** How long a slot's thread may take to connect before it is given up (its tasks then fail). */
const START_TIMEOUT_MS = 15_000;

/**
 * Threads started at once: a large job deploys into every slot together, and dozens of isolates
 * loading their modules on a few cores would each miss {@link START_TIMEOUT_MS}; the rest wait their turn.
 */
const MAX_STARTING = Math.max(2, availableParallelism());

/** Settings of {@link SlotWorkers} beyond the defaults (tests start stand-in threads). */
export interface SlotWorkersOptions {
  /** Threads started at once (default: the cores, at least 2). */
  maxStarting?: number;
  /** The thread's entry module (default: the slot worker). */
  workerUrl?: URL;
}

/** How long a slot's thread lives without tasks before it stops (EDDY_SLOT_IDLE_MS, default 30 s). */
export function slotIdleMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.EDDY_SLOT_IDLE_MS);
  return env.EDDY_SLOT_IDLE_MS !== undefined && Number.isFinite(v) && v >= 0 ? v : 30_000;
}

/** One slot's worker thread while it exists. */
interface SlotThread {
  readonly worker: Worker;
  readonly exited: Promise<void>;
  /** Set once a shutdown was asked (idle or stop): nothing more is posted to it. */
  stopping: boolean;
}

/** A slot: its thread (if any), the attempts it runs, and what waits for a stopping thread to go. */
interface Slot {
  thread: SlotThread | undefined;
  /** Attempts submitted and not yet reported final: attemptId → jobId. */
  readonly live: Map<string, string>;
  /** Messages for the next thread, posted once the stopping one exited. */
  readonly queued: ToWorker[];
  idleTimer: NodeJS.Timeout | undefined;
  /** The thread waits for its turn to start (messages for it are queued meanwhile). */
  waiting: boolean;
}

/**
 * The worker threads of a TaskExecutor, one per slot, and the broker that links them without NATS.
 * A slot's thread (a V8 isolate of its own, tens of MB) starts with its first task, or when the slot
 * is allocated, and stops after {@link slotIdleMs} without tasks: an idle TaskExecutor holds none.
 * Messages posted while a thread connects wait in its port, in order; messages for a slot whose
 * thread is stopping wait for the next thread. A thread that dies fails the attempts it ran.
 * Workers get job bundles through the TaskExecutor's one {@link BundleCache}.
 */
export class SlotWorkers {
  private readonly slots: Slot[] = [];
  private readonly broker = new LocalExchangeBroker();
  private closed = false;
  /** Threads started and not yet ready. */
  private starting = 0;
  /** Slots whose thread waits for its turn to start, in order. */
  private readonly startQueue: number[] = [];

  constructor(
    private readonly base: Omit<SlotWorkerData, "slotIndex">,
    private readonly onMessage: (slotIndex: number, m: FromWorker) => void,
    private readonly log: Logger,
    private readonly bundles?: BundleCache,
    private readonly idleMs = slotIdleMs(),
    private readonly opts: SlotWorkersOptions = {},
  ) {}

  /** Prepares `slots` slots; their threads start on demand. */
  start(slots: number): void {
    for (let i = 0; i < slots; i++) this.slots.push({ thread: undefined, live: new Map(), queued: [], idleTimer: undefined, waiting: false });
  }

  /** Number of slot threads running now (stopping ones included). */
  get threadCount(): number {
    return this.slots.filter((s) => s.thread).length;
  }

  /** Starts the slot's thread ahead of its first task (a slot was allocated: a deployment follows). */
  prestart(slotIndex: number): void {
    const slot = this.slots[slotIndex];
    if (!slot || this.closed) return;
    if (!slot.thread) this.spawn(slotIndex);
    if (slot.live.size === 0) this.armIdle(slotIndex);
  }

  send(slotIndex: number, m: ToWorker): void {
    const slot = this.slots[slotIndex];
    if (!slot || this.closed) return;
    if (m.type === "submit") {
      slot.live.set(m.tdd.attemptId, m.tdd.jobId);
      clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
      if (!slot.thread) this.spawn(slotIndex);
    } else if (!slot.thread && !slot.waiting) return; // no thread: nothing runs there to cancel
    if (!slot.thread || slot.thread.stopping) slot.queued.push(m);
    else slot.thread.worker.postMessage(m);
  }

  /** Starts the slot's thread now, or queues it behind the {@link MAX_STARTING} threads starting. */
  private spawn(slotIndex: number): void {
    const slot = this.slots[slotIndex]!;
    if (slot.thread || slot.waiting) return;
    if (this.starting >= (this.opts.maxStarting ?? MAX_STARTING)) {
      slot.waiting = true;
      this.startQueue.push(slotIndex);
      return;
    }
    this.startThread(slotIndex);
  }

  /** One thread came up (or gave up): the next waiting slot starts. */
  private startedOne(): void {
    this.starting--;
    while (this.starting < (this.opts.maxStarting ?? MAX_STARTING) && !this.closed) {
      const next = this.startQueue.shift();
      if (next === undefined) return;
      const slot = this.slots[next]!;
      if (!slot.waiting) continue;
      slot.waiting = false;
      this.startThread(next);
    }
  }

  private startThread(slotIndex: number): void {
    const slot = this.slots[slotIndex]!;
    this.starting++;
    const port = this.broker.connectWorker();
    const worker = new Worker(this.opts.workerUrl ?? slotWorkerUrl(), { workerData: { ...this.base, slotIndex, brokerPort: port }, transferList: [port] });
    let ready = false;
    let counted = true;
    const started = () => {
      if (!counted) return;
      counted = false;
      this.startedOne();
    };
    const startTimer = setTimeout(() => {
      this.log.error({ slot: slotIndex, timeoutMs: START_TIMEOUT_MS }, "slot worker did not start in time; terminating it");
      void worker.terminate();
    }, START_TIMEOUT_MS);
    const exited = new Promise<void>((resolve) =>
      worker.once("exit", (code) => {
        clearTimeout(startTimer);
        started();
        this.exited(slotIndex, thread, ready ? `exited (code ${code})` : "failed to start");
        resolve();
      }),
    );
    const thread: SlotThread = { worker, exited, stopping: false };
    slot.thread = thread;
    // What was sent while the thread waited its turn (the port keeps it until the worker listens).
    for (const m of slot.queued.splice(0)) worker.postMessage(m);
    worker.on("message", (m: FromWorker) => {
      if (m.type === "ready") {
        ready = true;
        clearTimeout(startTimer);
        started();
      } else if (m.type === "fatal") {
        this.log.error({ slot: slotIndex, message: m.message }, "slot worker failed to start");
        void worker.terminate();
      } else if (m.type === "fetchBundle") this.fetchBundle(worker, m);
      else {
        if (m.type === "state" && isFinal(m.state) && slot.live.delete(m.attemptId) && slot.live.size === 0) this.armIdle(slotIndex);
        this.onMessage(slotIndex, m);
      }
    });
    worker.on("error", (err) => this.log.error({ err, slot: slotIndex }, "slot worker crashed"));
    this.log.debug({ slot: slotIndex }, "slot worker starting");
  }

  /** A thread ended: its unfinished attempts fail; messages queued for a successor start one. */
  private exited(slotIndex: number, thread: SlotThread, how: string): void {
    const slot = this.slots[slotIndex]!;
    if (slot.thread === thread) slot.thread = undefined;
    const expected = thread.stopping;
    if (!expected) {
      this.log.error({ slot: slotIndex }, `slot worker ${how}`);
      const failure = failureInfo(new EddyError(ErrorCode.InternalError, `the worker thread of slot ${slotIndex} ${how}`));
      for (const [attemptId, jobId] of slot.live) this.onMessage(slotIndex, { type: "state", attemptId, jobId, state: "FAILED", failure });
      slot.live.clear();
    }
    if (this.closed) return;
    if (slot.queued.length > 0) {
      const queued = slot.queued.splice(0);
      // Only what still concerns a live attempt goes to the next thread.
      const forNext = queued.filter((m) => m.type !== "submit" || slot.live.has(m.tdd.attemptId));
      if (forNext.some((m) => m.type === "submit")) {
        slot.queued.push(...forNext);
        this.spawn(slotIndex);
      }
    }
  }

  private armIdle(slotIndex: number): void {
    const slot = this.slots[slotIndex]!;
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = undefined;
      const t = slot.thread;
      if (!t || t.stopping || slot.live.size > 0 || this.closed) return;
      this.log.debug({ slot: slotIndex, idleMs: this.idleMs }, "slot worker idle: stopping it");
      void this.stopThread(t);
    }, this.idleMs);
    slot.idleTimer.unref();
  }

  /** Asks a thread to cancel its tasks and exit; terminates it when it does not in time. */
  private async stopThread(t: SlotThread): Promise<void> {
    if (!t.stopping) {
      t.stopping = true;
      t.worker.postMessage({ type: "shutdown" } satisfies ToWorker);
    }
    await withTimeout(t.exited, 4_000, "slot worker exit").catch(() => t.worker.terminate());
  }

  /** Answers a worker's bundle request from the cache (downloading once per bundle). */
  private fetchBundle(w: Worker, m: FromWorker & { type: "fetchBundle" }): void {
    const reply = (r: { path?: string; error?: EddyError }) =>
      w.postMessage({
        type: "bundle",
        requestId: m.requestId,
        ...(r.path !== undefined ? { path: r.path } : {}),
        ...(r.error ? { error: r.error.toWire() } : {}),
      } satisfies ToWorker);
    if (!this.bundles) {
      reply({ error: new InternalError("this TaskExecutor has no bundle cache") });
      return;
    }
    this.bundles.get(m.bundle).then(
      (path) => reply({ path }),
      (err: unknown) => reply({ error: toEddyError(err) }),
    );
  }

  /** Stops every thread (cancelling its tasks) and the broker. */
  async stop(): Promise<void> {
    this.closed = true;
    this.startQueue.length = 0;
    for (const s of this.slots) {
      clearTimeout(s.idleTimer);
      s.queued.length = 0;
      s.waiting = false;
    }
    await Promise.all(this.slots.map((s) => (s.thread ? this.stopThread(s.thread) : undefined)));
    this.broker.close();
    await this.bundles?.close();
  }
}

function isFinal(state: string): boolean {
  return state === "FINISHED" || state === "FAILED" || state === "CANCELED";
}
