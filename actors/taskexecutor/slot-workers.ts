import { Worker } from "node:worker_threads";
import type { Logger } from "../../src/core/logger.js";
import { type EddyError, InternalError, toEddyError } from "../../src/core/errors.js";
import type { BundleCache } from "../../src/blob/index.js";
import { deferred, withTimeout } from "../../src/core/time.js";
import { LocalExchangeBroker } from "../../src/network/index.js";
import type { FromWorker, SlotWorkerData, ToWorker } from "../task/protocol.js";

const WORKER_URL = new URL("../task/slot-worker.js", import.meta.url);

/**
 * The worker threads of a TaskExecutor, one per slot, and the broker that links them without NATS.
 * Workers get job bundles through the TaskExecutor's one {@link BundleCache}.
 */
export class SlotWorkers {
  private readonly workers: Worker[] = [];
  private readonly broker = new LocalExchangeBroker();

  constructor(
    private readonly base: Omit<SlotWorkerData, "slotIndex">,
    private readonly onMessage: (slotIndex: number, m: FromWorker) => void,
    private readonly log: Logger,
    private readonly bundles?: BundleCache,
  ) {}

  /** Starts one worker per slot; resolves when every worker is connected. */
  async start(slots: number): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let i = 0; i < slots; i++) {
      const port = this.broker.connectWorker();
      const w = new Worker(WORKER_URL, { workerData: { ...this.base, slotIndex: i, brokerPort: port }, transferList: [port] });
      const r = deferred<void>();
      w.on("message", (m: FromWorker) => {
        if (m.type === "ready") r.resolve();
        else if (m.type === "fatal") r.reject(new Error(m.message));
        else if (m.type === "fetchBundle") this.fetchBundle(w, m);
        else this.onMessage(i, m);
      });
      w.on("error", (err) => {
        this.log.error({ err, slot: i }, "slot worker crashed");
        r.reject(err);
      });
      this.workers.push(w);
      ready.push(r.promise);
    }
    await withTimeout(Promise.all(ready), 15_000, "starting slot workers");
  }

  /** Answers a worker's bundle request from the cache (downloading once per bundle). */
  private fetchBundle(w: Worker, m: FromWorker & { type: "fetchBundle" }): void {
    const reply = (r: { path?: string; error?: EddyError }) =>
      w.postMessage({ type: "bundle", requestId: m.requestId, ...(r.path !== undefined ? { path: r.path } : {}), ...(r.error ? { error: r.error.toWire() } : {}) } satisfies ToWorker);
    if (!this.bundles) {
      reply({ error: new InternalError("this TaskExecutor has no bundle cache") });
      return;
    }
    this.bundles.get(m.bundle).then(
      (path) => reply({ path }),
      (err: unknown) => reply({ error: toEddyError(err) }),
    );
  }

  send(slotIndex: number, m: ToWorker): void {
    this.workers[slotIndex]?.postMessage(m);
  }

  /** Asks every worker to cancel its tasks and exit; terminates those that do not in time. */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        const exited = new Promise<void>((r) => w.once("exit", () => r()));
        w.postMessage({ type: "shutdown" } satisfies ToWorker);
        await withTimeout(exited, 4_000, "slot worker exit").catch(() => w.terminate());
      }),
    );
    this.broker.close();
    await this.bundles?.close();
  }
}
