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
import { EddyError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
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
import type { ClusterInfo, JobResultReply } from "../../schemas/dispatcher-api.js";

/** A unique prefix for one test file. */
export function uniquePrefix(): string {
  return `t${Date.now()}${Math.random().toString(36).slice(2, 7)}`;
}

/** Races `p` against `ms`; the timer is always cleared. */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

/** Polls `check` until it returns something other than undefined/false, or fails after `ms`. */
export async function pollUntil<T>(check: () => Promise<T | undefined | false>, ms: number, what: string, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
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
  const log = silentLogger();
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
    const quietly = (p: Promise<unknown> | undefined, what: string) => (p ? bounded(p, 10_000, what).catch(() => undefined) : undefined);
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
    jm = await bounded(startJobManager({ natsUrl: nats.url, prefix, log }), timeoutMs, "starting the JobManager");
    await bounded(jm.ready, timeoutMs, "JobManager ready");
    for (let i = 0; i < n; i++) tes.push(await bounded(startTaskExecutor({ natsUrl: nats.url, prefix, slots, log }), timeoutMs, "starting a TaskExecutor"));
    await bounded(Promise.all(tes.map((te) => te.ready)), timeoutMs, "TaskExecutor registration");
    const dispatcher = new Gateway(nc, `${prefix}.dispatcher`);
    await pollUntil(
      async () => (await dispatcher.ask<ClusterInfo>("clusterInfo", {}, { timeoutMs: 2_000 })).taskExecutors.length === n,
      timeoutMs,
      `${n} TaskExecutor(s) in clusterInfo`,
    );
    return { natsUrl: nats.url, prefix, nc, dispatcher, jm, tes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The answer to `requestJobResult`, waiting up to `timeoutMs` in long polls of at most 5 s. */
export async function awaitResult(dispatcher: Gateway, jobId: string, timeoutMs: number): Promise<JobResultReply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`job ${jobId} reached no terminal state within ${timeoutMs} ms`);
    const wait = Math.max(1, Math.min(5_000, left));
    try {
      return await dispatcher.ask<JobResultReply>("requestJobResult", { jobId, timeoutMs: wait }, { timeoutMs: wait + 3_000 });
    } catch (err) {
      if (!(err instanceof EddyError && err.code === "JobResultNotReady")) throw err;
    }
  }
}

/** Submits `spec` and waits for its terminal result. */
export async function runToCompletion(dispatcher: Gateway, spec: unknown, timeoutMs: number): Promise<JobResultReply> {
  const { jobId } = await dispatcher.ask<{ jobId: string }>("submitJob", spec);
  return awaitResult(dispatcher, jobId, timeoutMs);
}

/** Polls `requestJob` until the job and every subtask are RUNNING. */
export function waitUntilRunning(dispatcher: Gateway, jobId: string, timeoutMs = 15_000): Promise<any> {
  return pollUntil(
    async () => {
      const d = await dispatcher.ask<any>("requestJob", { jobId }, { timeoutMs: 2_000 });
      const all = d.vertices.every((v: any) => v.subtasks.every((s: any) => s.state === "RUNNING"));
      return d.state === "RUNNING" && all ? d : undefined;
    },
    timeoutMs,
    `job ${jobId} RUNNING`,
  );
}

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

/** A source.sequence → sink.discard job of parallelism `p`; `to` = 1e12 keeps it running until canceled. */
export function sequenceJob(name: string, to: number, p = 1, jobId?: string): Record<string, unknown> {
  return {
    ...(jobId ? { jobId } : {}),
    name,
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: p, config: { from: 0, to } },
      { id: "sink", invokable: "sink.discard", parallelism: p },
    ],
    edges: [{ source: "src", target: "sink", partitioner: "forward" }],
  };
}
