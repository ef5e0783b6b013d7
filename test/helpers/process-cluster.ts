/**
 * A whole Eddy cluster of real processes for tests and benchmarks: a private nats-server with
 * JetStream, one `eddy jobmanager` process and N `eddy taskexecutor` processes (killable with
 * SIGKILL), under a prefix of its own. Every wait is bounded; `stop()` stops what was started.
 */
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { waitFor } from "../../src/core/time.js";
import { startTestNats, type TestNats } from "./nats-server.js";
import { spawnEddy, type EddyProcess } from "./eddy-process.js";

/** A running process cluster. */
export interface ProcessCluster {
  natsUrl: string;
  prefix: string;
  nc: NatsConnection;
  dispatcher: Gateway;
  jobManager: EddyProcess;
  taskExecutors: EddyProcess[];
  /** Starts one more TaskExecutor process and waits until it is registered. */
  addTaskExecutor(slots?: number): Promise<EddyProcess>;
  stop(): Promise<void>;
}

interface Info {
  taskExecutors: Array<{ id: string; pid: number }>;
}

/** Starts NATS, a JobManager process and `taskExecutors` TaskExecutor processes with `slots` slots each. */
export async function startProcessCluster(opts: { taskExecutors?: number; slots?: number; logLevel?: string } = {}): Promise<ProcessCluster> {
  const prefix = `p${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let nats: TestNats | undefined;
  let nc: NatsConnection | undefined;
  const procs: EddyProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop(10_000).catch(() => p.kill())));
    await nc?.close().catch(() => undefined);
    await nats?.stop();
  };
  try {
    nats = await startTestNats({ jetstream: true });
    const env = { natsUrl: nats.url, prefix, logLevel: opts.logLevel ?? "warn" };
    const jobManager = spawnEddy(["jobmanager"], env);
    procs.push(jobManager);
    nc = await connectNats(nats.url, "test-client");
    const dispatcher = new Gateway(nc, new Subjects(prefix).dispatcher);
    const registered = (n: number) =>
      waitFor(
        async () => {
          const info = await dispatcher.ask<Info>("clusterInfo", {}, { timeoutMs: 1_000 }).catch(() => undefined);
          return info && info.taskExecutors.length >= n ? info : undefined;
        },
        30_000,
        `${n} TaskExecutors registered`,
        100,
      );
    const taskExecutors: EddyProcess[] = [];
    const addTaskExecutor = async (slots = opts.slots ?? 2) => {
      const te = spawnEddy(["taskexecutor", "--slots", String(slots)], env);
      procs.push(te);
      taskExecutors.push(te);
      await registered(taskExecutors.filter((p) => !p.exit).length);
      return te;
    };
    for (let i = 0; i < (opts.taskExecutors ?? 2); i++) {
      const te = spawnEddy(["taskexecutor", "--slots", String(opts.slots ?? 2)], env);
      procs.push(te);
      taskExecutors.push(te);
    }
    await registered(taskExecutors.length);
    return { natsUrl: nats.url, prefix, nc, dispatcher, jobManager, taskExecutors, addTaskExecutor, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export { awaitJobResult } from "./jobs.js";
