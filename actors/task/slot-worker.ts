/**
 * Entry point of one slot's worker thread ("slots are threads"): its own NATS connection for the
 * data plane and the Task actors, a NetworkEnvironment, and the Tasks deployed into the slot.
 */
import { parentPort, workerData } from "node:worker_threads";
import { connectNats, onReconnect } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { createLogger } from "../../src/core/logger.js";
import { EddyError, ErrorCode, errorFromWire, InternalError } from "../../src/core/errors.js";
import { LibraryCacheManager } from "../../src/usercode/index.js";
import { NetworkEnvironment, LocalExchangeClient } from "../../src/network/index.js";
import type { MessagePort } from "node:worker_threads";
import { Task } from "./task.js";
import { CheckpointStorage } from "../../src/checkpoint/index.js";
import type { FromWorker, SlotWorkerData, ToWorker } from "./protocol.js";
import { SlotMetrics } from "./slot-metrics.js";

const data = workerData as SlotWorkerData & { brokerPort: MessagePort };
const port = parentPort!;
const log = createLogger("Task", { taskExecutor: data.taskExecutorId, slot: data.slotIndex });
const post = (m: FromWorker) => port.postMessage(m);

async function main(): Promise<void> {
  const nc = await connectNats(data.natsUrl, `eddy-slot-${data.taskExecutorId}-${data.slotIndex}`, { log, auth: data.natsAuth });
  const subjects = new Subjects(data.prefix);
  const libraries = new LibraryCacheManager(bundleFetcher());
  const network = new NetworkEnvironment({
    nc,
    subjects,
    location: { taskExecutorId: data.taskExecutorId, slotIndex: data.slotIndex },
    broker: new LocalExchangeClient(data.brokerPort),
  });
  const tasks = new Map<string, Task>();
  let storage: Promise<CheckpointStorage> | undefined;
  // A failed open is forgotten, so the next task tries again instead of failing on the same error.
  const getStorage = () =>
    (storage ??= CheckpointStorage.open(nc, subjects).catch((err: unknown) => {
      storage = undefined;
      throw err;
    }));
  // Opened while the slot's first deployment is on its way (a slot is allocated, then a restart's
  // backoff passes): a restore after a failover need not wait for it. A failure here is reported by
  // the first task that needs the storage, which opens it again.
  getStorage().catch(() => undefined);
  const metrics = data.metrics === false ? undefined : new SlotMetrics(post, data.slots);

  port.on("message", (m: ToWorker) => {
    switch (m.type) {
      case "submit": {
        const tdd = m.tdd;
        const report = (state: FromWorker & { type: "state" }) => post(state);
        // The job's code, leased for the task's lifetime (loaded by its first task in this worker).
        const code = libraries.acquire(tdd.jobId, tdd.userCode, tdd.jobName);
        const task = new Task(
          nc,
          subjects,
          tdd,
          m.jobMasterToken,
          code,
          network,
          (state, failure, accumulators) =>
            report({
              type: "state",
              attemptId: tdd.attemptId,
              jobId: tdd.jobId,
              state,
              ...(failure ? { failure } : {}),
              ...(accumulators ? { accumulators } : {}),
            }),
          log,
          getStorage,
          metrics,
        );
        tasks.set(tdd.attemptId, task);
        void task.start().finally(() => {
          tasks.delete(tdd.attemptId);
          libraries.release(tdd.jobId);
        });
        return;
      }
      case "bundle":
        settleBundle(m);
        return;
      case "cancel":
        tasks.get(m.attemptId)?.cancel();
        return;
      case "shutdown":
        void (async () => {
          for (const r of bundleRequests.values()) r.fail(new EddyError(ErrorCode.Shutdown, "the slot worker is shutting down"));
          for (const t of tasks.values()) t.cancel();
          const deadline = Date.now() + 2_000;
          while (tasks.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          network.close();
          metrics?.stop();
          await nc.drain().catch(() => undefined); // best effort: the process exits next
          process.exit(0);
        })();
        return;
    }
  });
  onReconnect(nc, () => {
    for (const t of tasks.values()) t.connectionRestored();
  });
  post({ type: "ready" });
}

/** Bundle requests to the TaskExecutor's BundleCache (main thread), by request id. */
const bundleRequests = new Map<number, { ok(path: string): void; fail(err: unknown): void }>();
let nextBundleRequest = 1;
/** Longer than the store's own transfer bound, so its error (not this one) is what a task reports. */
const BUNDLE_REQUEST_TIMEOUT_MS = 180_000;

/** Fetches a bundle's verified file through the TaskExecutor (one cache, one download per bundle). */
function bundleFetcher() {
  return (bundle: { id: string; size: number }) =>
    new Promise<string>((resolve, reject) => {
      const requestId = nextBundleRequest++;
      const timer = setTimeout(() => {
        bundleRequests.delete(requestId);
        reject(new EddyError(ErrorCode.RpcTimeout, `bundle ${bundle.id} not fetched within ${BUNDLE_REQUEST_TIMEOUT_MS} ms`));
      }, BUNDLE_REQUEST_TIMEOUT_MS);
      const done = () => (clearTimeout(timer), bundleRequests.delete(requestId));
      bundleRequests.set(requestId, {
        ok: (path) => (done(), resolve(path)),
        fail: (err) => (done(), reject(err)),
      });
      post({ type: "fetchBundle", requestId, bundle: { id: bundle.id, size: bundle.size } });
    });
}

function settleBundle(m: ToWorker & { type: "bundle" }): void {
  const r = bundleRequests.get(m.requestId);
  if (!r) return;
  if (m.path !== undefined) r.ok(m.path);
  else r.fail(m.error ? errorFromWire(m.error) : new InternalError("the bundle cache answered neither a path nor an error"));
}

main().catch((err) => {
  post({ type: "fatal", message: (err as Error).message });
  log.error({ err }, "slot worker failed to start");
});
