/**
 * A whole cluster inside a test process, for users' tests (Flink's MiniClusterWithClientResource):
 * its own nats-server (JetStream in a temporary directory, loopback, a free port), one JobManager and
 * N TaskExecutors in this process. Run a job file on it and read its result and output.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { silentLogger } from "../core/logger.js";
import { waitFor, withTimeout } from "../core/time.js";
import { startNatsServer, type NatsServerHandle } from "../cluster/nats-server.js";
import { startJobManager, type JobManagerHandle } from "../entrypoints/jobmanager.js";
import { startTaskExecutor, type TaskExecutorHandle } from "../entrypoints/taskexecutor.js";
import { EddyClient, type JobResultReply } from "../client/index.js";

/** Options of {@link MiniCluster.start}. */
export interface MiniClusterOptions {
  /** TaskExecutors (default 1). */
  taskExecutors?: number;
  /** Slots per TaskExecutor (default 2). */
  slots?: number;
  /** Bound of each startup step, ms (default 30 000). */
  timeoutMs?: number;
}

/** A running mini cluster; `stop()` stops everything it started. */
export class MiniCluster {
  private constructor(
    /** The NATS URL of its server. */
    readonly url: string,
    /** Its subject prefix (unique per cluster). */
    readonly prefix: string,
    /** A client of its Dispatcher. */
    readonly client: EddyClient,
    private readonly parts: { server: NatsServerHandle; storeDir: string; jm: JobManagerHandle; tes: TaskExecutorHandle[] },
  ) {}

  static async start(opts: MiniClusterOptions = {}): Promise<MiniCluster> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const prefix = `mini${randomBytes(4).toString("hex")}`;
    const storeDir = mkdtempSync(join(tmpdir(), "eddy-mini-cluster-"));
    const log = silentLogger();
    // Slot threads log on their own at EDDY_LOG_LEVEL: a test's output stays the test's.
    process.env.EDDY_LOG_LEVEL ??= "error";
    let server: NatsServerHandle | undefined;
    let jm: JobManagerHandle | undefined;
    const tes: TaskExecutorHandle[] = [];
    try {
      server = await startNatsServer({ port: 0, storeDir, readyTimeoutMs: timeoutMs });
      jm = await withTimeout(startJobManager({ natsUrl: server.url, prefix, log }), timeoutMs, "starting the JobManager");
      await withTimeout(jm.ready, timeoutMs, "JobManager ready");
      const n = opts.taskExecutors ?? 1;
      for (let i = 0; i < n; i++)
        tes.push(await withTimeout(startTaskExecutor({ natsUrl: server.url, prefix, slots: opts.slots ?? 2, log }), timeoutMs, "starting a TaskExecutor"));
      await withTimeout(Promise.all(tes.map((te) => te.ready)), timeoutMs, "TaskExecutor registration");
      const client = await EddyClient.connect({ url: server.url, prefix });
      const cluster = new MiniCluster(server.url, prefix, client, { server, storeDir, jm, tes });
      await waitFor(
        async () => ((await client.clusterInfo().catch(() => undefined))?.taskExecutors.length === n ? true : undefined),
        timeoutMs,
        `${n} TaskExecutor(s) serving`,
      );
      return cluster;
    } catch (err) {
      await Promise.all(tes.map((te) => te.stop().catch(() => undefined)));
      await jm?.stop().catch(() => undefined);
      await server?.kill();
      rmSync(storeDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Builds and submits the job in `file` (as `eddy run` does) and waits for its result. */
  async runJob(file: string, opts: { args?: string[]; parallelism?: number; timeoutMs?: number } = {}): Promise<JobResultReply> {
    const jobId = await this.client.submitJobFile(file, opts);
    return this.client.result(jobId, { deadlineMs: opts.timeoutMs ?? 120_000 });
  }

  /** Stops the TaskExecutors, the JobManager and the server, and removes the server's store. */
  async stop(): Promise<void> {
    const { server, storeDir, jm, tes } = this.parts;
    await this.client.close();
    await Promise.all(tes.map((te) => withTimeout(te.stop(), 15_000, "stopping a TaskExecutor").catch(() => undefined)));
    await withTimeout(jm.stop(), 15_000, "stopping the JobManager").catch(() => undefined);
    // Every client is gone: a SIGKILL loses nothing, and no grace timer holds the process open.
    await server.kill();
    rmSync(storeDir, { recursive: true, force: true });
  }
}
