/**
 * Entry point of one slot's worker thread ("slots are threads"): its own NATS connection for the
 * data plane and the Task actors, a NetworkEnvironment, and the Tasks deployed into the slot.
 */
import { parentPort, workerData } from "node:worker_threads";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { createLogger } from "../../src/core/logger.js";
import { failureInfo } from "../../src/core/errors.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";
import { NetworkEnvironment, LocalExchangeClient } from "../../src/network/index.js";
import type { MessagePort } from "node:worker_threads";
import { Task } from "./task.js";
import { CheckpointStorage } from "../../src/checkpoint/index.js";
import type { FromWorker, SlotWorkerData, ToWorker } from "./protocol.js";

const data = workerData as SlotWorkerData & { brokerPort: MessagePort };
const port = parentPort!;
const log = createLogger("Task", { taskExecutor: data.taskExecutorId, slot: data.slotIndex });
const post = (m: FromWorker) => port.postMessage(m);

async function main(): Promise<void> {
  const nc = await connectNats(data.natsUrl, `eddy-slot-${data.taskExecutorId}-${data.slotIndex}`);
  const subjects = new Subjects(data.prefix);
  const registry = builtinRegistry;
  const network = new NetworkEnvironment({
    nc,
    subjects,
    location: { taskExecutorId: data.taskExecutorId, slotIndex: data.slotIndex },
    broker: new LocalExchangeClient(data.brokerPort),
  });
  const tasks = new Map<string, Task>();
  let storage: Promise<CheckpointStorage> | undefined;
  const getStorage = () => (storage ??= CheckpointStorage.open(nc, subjects));

  port.on("message", (m: ToWorker) => {
    switch (m.type) {
      case "submit": {
        const tdd = m.tdd;
        const report = (state: FromWorker & { type: "state" }) => post(state);
        let factory;
        try {
          factory = registry.lookup(tdd.invokable);
        } catch (err) {
          report({ type: "state", attemptId: tdd.attemptId, jobId: tdd.jobId, state: "FAILED", failure: failureInfo(err) });
          return;
        }
        const task = new Task(nc, subjects, tdd, m.jobMasterToken, factory, network, (state, failure, accumulators) =>
          report({ type: "state", attemptId: tdd.attemptId, jobId: tdd.jobId, state, ...(failure ? { failure } : {}), ...(accumulators ? { accumulators } : {}) }),
        log, getStorage);
        tasks.set(tdd.attemptId, task);
        void task.start().finally(() => tasks.delete(tdd.attemptId));
        return;
      }
      case "cancel":
        tasks.get(m.attemptId)?.cancel();
        return;
      case "shutdown":
        void (async () => {
          for (const t of tasks.values()) t.cancel();
          const deadline = Date.now() + 2_000;
          while (tasks.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          network.close();
          await nc.drain().catch(() => undefined);
          process.exit(0);
        })();
        return;
    }
  });
  post({ type: "ready" });
}

main().catch((err) => {
  post({ type: "fatal", message: (err as Error).message });
  log.error({ err }, "slot worker failed to start");
});
