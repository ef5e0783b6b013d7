/**
 * A whole Eddy cluster inside the test process: a private nats-server with JetStream, one JobManager
 * and N TaskExecutors, each under a prefix of its own. Every wait is bounded; `stop()` stops whatever
 * was started, also after a failure.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { decode, encode } from "../../src/codec/codec.js";
import { fileLogger, silentLogger } from "../../src/core/logger.js";
import { waitFor, withTimeout } from "../../src/core/time.js";
import { startJobManager, type JobManagerHandle } from "../../src/entrypoints/jobmanager.js";
import { startTaskExecutor, type TaskExecutorHandle } from "../../src/entrypoints/taskexecutor.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { startTestNats, type TestNats } from "./nats-server.js";

export interface InProcessCluster {
  natsUrl: string;
  prefix: string;
  /** A client connection of the test's own. */
  nc: NatsConnection;
  dispatcher: Gateway;
  jm: JobManagerHandle;
  tes: TaskExecutorHandle[];
  stop(): Promise<void>;
}

export type { ClusterInfo, JobResultReply } from "../../schemas/dispatcher-api.js";
import type { ClusterInfo } from "../../schemas/dispatcher-api.js";

/** A unique prefix for one test file. */
export function uniquePrefix(): string {
  return `t${Date.now()}${Math.random().toString(36).slice(2, 7)}`;
}

/**
 * Starts NATS (JetStream; `maxPayload` sets the server's max_payload through a config file of its own), a
 * JobManager and `taskExecutors` TaskExecutors of `slots` slots, and waits until every one is registered.
 */
export async function startInProcessCluster(
  opts: { taskExecutors?: number; slots?: number; maxPayload?: number; timeoutMs?: number } = {},
): Promise<InProcessCluster> {
  const n = opts.taskExecutors ?? 1;
  const slots = opts.slots ?? 2;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const prefix = uniquePrefix();
  // EDDY_TEST_LOG_DIR keeps the cluster's log (debug) in `<dir>/<pid>-in-process.log`, as for child processes.
  const logDir = process.env.EDDY_TEST_LOG_DIR;
  const log = logDir ? fileLogger(join(logDir, `${process.pid}-in-process.log`)) : silentLogger();
  // Slot worker threads log on their own, at EDDY_LOG_LEVEL: keep expected task failures out of test output.
  process.env.EDDY_LOG_LEVEL ??= "error";
  let confDir: string | undefined;
  let nats: TestNats | undefined;
  let nc: NatsConnection | undefined;
  let jm: JobManagerHandle | undefined;
  const tes: TaskExecutorHandle[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const quietly = (p: Promise<unknown> | undefined, what: string) =>
      p ? withTimeout(p, 10_000, what).catch((err: unknown) => log.warn({ err }, `${what} failed`)) : undefined;
    await Promise.all(tes.map((te) => quietly(te.stop(), "stopping a TaskExecutor")));
    await quietly(jm?.stop(), "stopping the JobManager");
    await quietly(nc?.close(), "closing the client");
    // Every client is gone: SIGKILL loses nothing, and stop() then only removes the store. (A SIGTERM
    // stop() leaves its 5 s grace timer armed, which holds the test process open that long.)
    await quietly(nats?.kill(), "killing nats-server");
    await quietly(nats?.stop(), "removing the nats-server store");
    if (confDir) rmSync(confDir, { recursive: true, force: true });
  };
  try {
    const args: string[] = [];
    if (opts.maxPayload) {
      confDir = mkdtempSync(join(tmpdir(), "eddy-test-conf-"));
      const conf = join(confDir, "nats.conf");
      // JetStream stays on whether or not the server was already started from a config file.
      writeFileSync(conf, `host: 127.0.0.1\nmax_payload: ${opts.maxPayload}\njetstream {\n}\n`);
      args.push("-c", conf);
    }
    nats = await startTestNats({ jetstream: true, args });
    nc = await connectNats(nats.url, "eddy-test-client", { reconnect: false });
    jm = await withTimeout(startJobManager({ natsUrl: nats.url, prefix, log }), timeoutMs, "starting the JobManager");
    await withTimeout(jm.ready, timeoutMs, "JobManager ready");
    for (let i = 0; i < n; i++) tes.push(await withTimeout(startTaskExecutor({ natsUrl: nats.url, prefix, slots, log }), timeoutMs, "starting a TaskExecutor"));
    await withTimeout(Promise.all(tes.map((te) => te.ready)), timeoutMs, "TaskExecutor registration");
    const dispatcher = new Gateway(nc, `${prefix}.dispatcher`);
    await waitFor(
      // TaskExecutors may register before the Dispatcher serves (it recovers jobs first): not yet, not a failure.
      async () => (await dispatcher.ask<ClusterInfo>("clusterInfo", {}, { timeoutMs: 2_000 }).catch(() => undefined))?.taskExecutors.length === n,
      timeoutMs,
      `${n} TaskExecutor(s) in clusterInfo`,
    );
    return { natsUrl: nats.url, prefix, nc, dispatcher, jm, tes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export { awaitJobResult as awaitResult, runToCompletion, waitUntilRunning } from "./jobs.js";

/** The keys of a KV bucket (an empty list when the bucket has none). */
export async function kvKeys(nc: NatsConnection, bucket: string): Promise<string[]> {
  const kv = await new Kvm(nc).open(bucket);
  const out: string[] = [];
  for await (const k of await kv.keys()) out.push(k);
  return out.sort();
}

/** One raw request: `body` as given (bytes) or encoded in `json` or msgpack; the reply decoded. */
export async function rawRequest(
  nc: NatsConnection,
  subject: string,
  body: Uint8Array | unknown,
  opts: { json?: boolean; token?: string; timeoutMs?: number } = {},
): Promise<{ isError: boolean; json: boolean; value: any; headers: MsgHdrs | undefined }> {
  const h = natsHeaders();
  if (opts.json) h.set("Content-Type", "application/json");
  if (opts.token) h.set("Eddy-Fence", opts.token);
  const data = body instanceof Uint8Array ? body : encode(body, opts.json ? "json" : "msgpack");
  const msg = await nc.request(subject, data, { timeout: opts.timeoutMs ?? 5_000, headers: h });
  const json = (msg.headers?.get("Content-Type") ?? "").startsWith("application/json");
  const value = json ? JSON.parse(new TextDecoder().decode(msg.data)) : decode(msg.data);
  return { isError: msg.headers?.get("Eddy-Error") === "1", json, value, headers: msg.headers };
}

/** A source.sequence → sink.discard job (two tasks per subtask index, not chained) of parallelism `p`; `to` = 1e12 keeps it running until canceled. */
export function sequenceJob(name: string, to: number, p = 1, jobId?: string): Record<string, unknown> {
  return {
    ...(jobId ? { jobId } : {}),
    name,
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: p, config: { from: 0, to } },
      // Not chained: tests count and address the two tasks separately.
      { id: "sink", invokable: "sink.discard", parallelism: p, chaining: false },
    ],
    edges: [{ source: "src", target: "sink", partitioner: "forward" }],
  };
}
