import { Worker } from "node:worker_threads";
import type { Logger } from "../../src/core/logger.js";
import { deferred, withTimeout } from "../../src/core/time.js";
import { LocalExchangeBroker } from "../../src/network/index.js";
import type { FromWorker, SlotWorkerData, ToWorker } from "../task/protocol.js";

const WORKER_URL = new URL("../task/slot-worker.js", import.meta.url);

/** The worker threads of a TaskExecutor, one per slot, and the broker that links them without NATS. */
export class SlotWorkers {
  private readonly workers: Worker[] = [];
  private readonly broker = new LocalExchangeBroker();

  constructor(
    private readonly base: Omit<SlotWorkerData, "slotIndex">,
    private readonly onMessage: (slotIndex: number, m: FromWorker) => void,
    private readonly log: Logger,
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
  }
}
