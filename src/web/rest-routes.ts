/**
 * The routing table of the web server: every REST resource (docs/rest.md), the live events, the
 * Prometheus endpoint and the dashboard's files. Path parameters and query parameters are checked
 * here; every body goes through a checker before anything is asked of the cluster.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode, EddyError } from "../core/errors.js";
import { s } from "../schema/index.js";
import { HttpError, readJsonBody, type Reply } from "./http-reply.js";
import { Router } from "./router.js";
import type { RestApi } from "./rest-api.js";
import type { LiveEvents } from "./live-events.js";
import type { SavepointOperations } from "./savepoint-operations.js";
import type { StaticFiles } from "./static-files.js";
import { backpressureBody, hostsOf, metricList, throughputBody, vertexDetailBody, watermarksBody } from "./rest-views.js";
import { taskManagerDetailBody, taskManagersBody } from "./taskmanager-views.js";

/** What a handler gets. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
}

export type Handler = (ctx: RequestContext) => Promise<Reply>;

/** What the routes stand on. */
export interface RouteServices {
  api: RestApi;
  events: LiveEvents;
  savepoints: SavepointOperations;
  files: StaticFiles;
  /** Flink's /config body. */
  config(): unknown;
}

const JOB_ID = /^[0-9a-f]{32}$/;
const NAME_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Savepoints over REST wait this long for completion (Flink's default checkpoint timeout is 10 min). */
const SAVEPOINT_TIMEOUT_MS = 600_000;

function jobIdOf(ctx: RequestContext, name = "jid"): string {
  const v = ctx.params[name] ?? "";
  if (!JOB_ID.test(v))
    throw new HttpError(400, ErrorCode.MalformedRequest, `malformed job id ${JSON.stringify(v.slice(0, 80))}: a job id is 32 lowercase hex digits`);
  return v;
}

function nameIdOf(ctx: RequestContext, name: string, what: string): string {
  const v = ctx.params[name] ?? "";
  if (!NAME_ID.test(v))
    throw new HttpError(400, ErrorCode.MalformedRequest, `malformed ${what} ${JSON.stringify(v.slice(0, 80))}: letters, digits, _ and -, at most 64`);
  return v;
}

/** An integer query parameter within min..max, or `dflt` when absent. */
function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null) return dflt;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new HttpError(
      400,
      ErrorCode.MalformedRequest,
      `query parameter ${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  return Number(raw);
}

/** `?get=a,b`: at most 100 metric names of at most 200 characters. */
function metricNames(q: URLSearchParams): string[] | undefined {
  const raw = q.get("get");
  if (raw === null) return undefined;
  const names = raw.split(",").filter(Boolean);
  if (names.length > 100 || names.some((n) => n.length > 200 || !/^[A-Za-z0-9_.<>-]+$/.test(n)))
    throw new HttpError(400, ErrorCode.MalformedRequest, "query parameter get must list at most 100 metric names (letters, digits, . _ - < >)");
  return names;
}

const SavepointBody = s.object({
  "cancel-job": s.optional(s.bool),
  "target-directory": s.optional(s.str({ max: 4096 })),
  formatType: s.optional(s.oneOf(["CANONICAL", "NATIVE"] as const)),
});

const Bounds = s.object({ parallelism: s.object({ lowerBound: s.int({ min: 1, max: 32768 }), upperBound: s.int({ min: 1, max: 32768 }) }) });
const ResourceRequirements = s.record(Bounds, 1000);

/** Whether `path` is one of the dashboard's own files (`/`, `/index.html`, `/assets/*` below): they hold nothing of the cluster. */
export function isDashboardFile(path: string): boolean {
  return path === "/" || path === "/index.html" || path.startsWith("/assets/");
}

/** Builds the routing table. */
export function restRoutes(x: RouteServices): Router<Handler> {
  const { api } = x;
  const json = async (body: Promise<unknown> | unknown): Promise<Reply> => ({ json: await body });
  const r = new Router<Handler>();
  r.on("GET", "/config", () => json(x.config()));
  r.on("GET", "/overview", () => json(api.overview()));
  r.on("GET", "/jobs/overview", () => json(api.jobs()));
  r.on("GET", "/jobs", async () => ({ json: { jobs: (await api.jobs()).jobs.map((j) => ({ id: j.jid, status: j.state })) } }));
  r.on("GET", "/jobs/:jid", (c) => json(api.job(jobIdOf(c))));
  r.on("PATCH", "/jobs/:jid", async (c) => {
    const jobId = jobIdOf(c);
    const mode = c.query.get("mode") ?? "cancel";
    if (mode !== "cancel") throw new HttpError(400, ErrorCode.MalformedRequest, `mode must be cancel, got ${JSON.stringify(mode.slice(0, 40))}`);
    await api.dispatcher.cancel(jobId);
    return { json: {}, status: 202 };
  });
  r.on("GET", "/jobs/:jid/plan", async (c) => ({ json: { plan: await api.dispatcher.plan(jobIdOf(c)) } }));
  r.on("GET", "/jobs/:jid/exceptions", (c) => json(api.exceptions(jobIdOf(c))));
  r.on("GET", "/jobs/:jid/checkpoints", (c) => json(api.checkpoints(jobIdOf(c))));
  r.on("GET", "/jobs/:jid/checkpoints/config", (c) => json(api.checkpointConfig(jobIdOf(c))));
  r.on("GET", "/jobs/:jid/throughput", async (c) => ({ json: throughputBody(await api.dispatcher.job(jobIdOf(c)), api.metrics) }));
  r.on("GET", "/jobs/:jid/metrics", async (c) => {
    const jobId = jobIdOf(c);
    const names = metricNames(c.query);
    await api.dispatcher.job(jobId); // 404 for an unknown job
    return { json: metricList(api.metrics.job(jobId), names) };
  });
  r.on("GET", "/jobs/:jid/vertices/:vid", async (c) => {
    const { d, v } = await api.vertex(jobIdOf(c), nameIdOf(c, "vid", "vertex id"));
    const page = { offset: intParam(c.query, "offset", 0, 0, 1_000_000), limit: intParam(c.query, "limit", 100, 1, 10_000) };
    return { json: vertexDetailBody(d, v, api.metrics, hostsOf(await api.dispatcher.clusterInfo()), page, Date.now()) };
  });
  r.on("GET", "/jobs/:jid/vertices/:vid/backpressure", async (c) => {
    const { d, v } = await api.vertex(jobIdOf(c), nameIdOf(c, "vid", "vertex id"));
    return { json: backpressureBody(d, v, api.metrics, Date.now()) };
  });
  r.on("GET", "/jobs/:jid/vertices/:vid/watermarks", async (c) => {
    const { d, v } = await api.vertex(jobIdOf(c), nameIdOf(c, "vid", "vertex id"));
    return { json: watermarksBody(d, v, api.metrics) };
  });
  r.on("POST", "/jobs/:jid/savepoints", async (c) => {
    const jobId = jobIdOf(c);
    const body = SavepointBody(await readJsonBody(c.req), "");
    const d = await api.dispatcher.job(jobId);
    if (["FINISHED", "CANCELED", "FAILED"].includes(d.state))
      throw new EddyError(ErrorCode.JobAlreadyTerminal, `job ${jobId} already ended ${d.state}; no savepoint can be taken`);
    const run = api.dispatcher.savepoint(jobId, body["cancel-job"] === true, SAVEPOINT_TIMEOUT_MS).then((r) => r.savepointId);
    return { json: { "request-id": x.savepoints.start(jobId, run) }, status: 202 };
  });
  r.on("GET", "/jobs/:jid/savepoints/:rid", async (c) => {
    const jobId = jobIdOf(c);
    const rid = jobIdOf(c, "rid");
    const st = x.savepoints.status(jobId, rid);
    if (!st)
      throw new HttpError(
        404,
        ErrorCode.SavepointNotFound,
        `no savepoint operation ${rid} of job ${jobId} (operations are kept by the JobManager that took them)`,
      );
    return { json: st };
  });
  r.on("PUT", "/jobs/:jid/resource-requirements", async (c) => {
    const jobId = jobIdOf(c);
    const req = ResourceRequirements(await readJsonBody(c.req), "");
    const entries = Object.entries(req);
    if (entries.length === 0) throw new HttpError(400, ErrorCode.MalformedRequest, "name at least one vertex");
    for (const [vid, b] of entries) {
      if (!NAME_ID.test(vid)) throw new HttpError(400, ErrorCode.MalformedRequest, `malformed vertex id ${JSON.stringify(vid.slice(0, 80))}`);
      if (b.parallelism.lowerBound > b.parallelism.upperBound)
        throw new HttpError(400, ErrorCode.InvalidParallelism, `${vid}: lowerBound ${b.parallelism.lowerBound} exceeds upperBound ${b.parallelism.upperBound}`);
    }
    for (const [vid, b] of entries) await api.dispatcher.rescale(jobId, vid, b.parallelism.lowerBound, b.parallelism.upperBound);
    return { json: {} };
  });
  r.on("GET", "/taskmanagers", async () => ({ json: taskManagersBody(await api.dispatcher.clusterInfo(), api.metrics) }));
  r.on("GET", "/taskmanagers/:tmid", async (c) => {
    const id = nameIdOf(c, "tmid", "TaskExecutor id");
    const te = (await api.dispatcher.clusterInfo()).taskExecutors.find((t) => t.id === id);
    if (!te) throw new HttpError(404, ErrorCode.UnknownPath, `no TaskExecutor ${id} is registered`);
    return { json: taskManagerDetailBody(te, api.metrics, await api.runningJobs()) };
  });
  r.on("GET", "/taskmanagers/:tmid/metrics", async (c) => {
    const id = nameIdOf(c, "tmid", "TaskExecutor id");
    const names = metricNames(c.query);
    if (!(await api.dispatcher.clusterInfo()).taskExecutors.some((t) => t.id === id))
      throw new HttpError(404, ErrorCode.UnknownPath, `no TaskExecutor ${id} is registered`);
    return { json: metricList(api.metrics.taskExecutor(id), names) };
  });
  r.on("GET", "/events", async (c) => {
    const job = c.query.get("job");
    if (job !== null && !JOB_ID.test(job))
      throw new HttpError(400, ErrorCode.MalformedRequest, "query parameter job must be a job id (32 lowercase hex digits)");
    if (job !== null) await api.dispatcher.job(job); // 404 for an unknown job
    x.events.add(c.req, c.res, job ?? undefined);
    return { handled: true };
  });
  r.on("GET", "/metrics", async () => ({
    text: api.metrics.prometheus(),
    type: "text/plain; version=0.0.4; charset=utf-8",
    headers: { "cache-control": "no-store" },
  }));
  r.on("GET", "/", () => x.files.index());
  r.on("GET", "/index.html", () => x.files.index());
  r.on("GET", "/assets/*", (c) => x.files.asset(c.params["*"] ?? ""));
  return r;
}
