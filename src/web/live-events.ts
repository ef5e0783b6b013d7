/**
 * `GET /events`: Server-Sent Events. Every second (and at once on connect) each client gets
 * `event: overview` ({overview, jobs}); a client that named a job (`?job=<jid>`) also gets
 * `event: job` and `event: checkpoints` when they changed. Each body is computed once per second
 * for all clients; a comment line every 15 s keeps proxies from closing idle streams. The number of
 * clients is bounded, and a client that does not read is dropped rather than buffered without end.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { HttpError } from "./http-reply.js";
import type { RestApi } from "./rest-api.js";

/** Most live connections at once (each holds a socket). */
export const MAX_EVENT_CLIENTS = 64;
const TICK_MS = 1_000;
const HEARTBEAT_MS = 15_000;
/** A client with more than this unsent is dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

interface Client {
  res: ServerResponse;
  jobId: string | undefined;
  last: { job?: string; checkpoints?: string };
}

export class LiveEvents {
  private readonly clients = new Set<Client>();
  private tickTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private ticking = false;
  private closed = false;

  constructor(
    private readonly api: RestApi,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Takes over `res` as an event stream; 503 when the server holds {@link MAX_EVENT_CLIENTS} already. */
  add(req: IncomingMessage, res: ServerResponse, jobId: string | undefined): void {
    if (this.closed) throw new HttpError(503, ErrorCode.Shutdown, "the web server is shutting down");
    if (this.clients.size >= MAX_EVENT_CLIENTS)
      throw new HttpError(503, ErrorCode.Unavailable, `the server holds ${MAX_EVENT_CLIENTS} live connections already; retry later`);
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 2000\n\n");
    const client: Client = { res, jobId, last: {} };
    this.clients.add(client);
    const drop = () => this.clients.delete(client);
    req.on("close", drop);
    res.on("error", drop);
    this.startTimers();
    void this.send([client]);
  }

  private startTimers(): void {
    this.tickTimer ??= setInterval(() => void this.tick(), TICK_MS);
    this.heartbeatTimer ??= setInterval(() => {
      for (const c of this.clients) this.write(c, ": heartbeat\n\n");
    }, HEARTBEAT_MS);
  }

  private stopTimers(): void {
    clearInterval(this.tickTimer);
    clearInterval(this.heartbeatTimer);
    this.tickTimer = this.heartbeatTimer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.clients.size === 0) return this.stopTimers();
    if (this.ticking) return; // the last round's reads are still out: skip one
    this.ticking = true;
    try {
      await this.send([...this.clients]);
    } finally {
      this.ticking = false;
    }
  }

  /** Computes each body once and sends it to `clients`. */
  private async send(clients: Client[]): Promise<void> {
    try {
      const overview = `event: overview\ndata: ${JSON.stringify(await this.api.overviewAndJobs())}\n\n`;
      for (const c of clients) this.write(c, overview);
    } catch (err) {
      this.log.debug({ err }, "live events: the overview could not be read");
    }
    const jobIds = new Set(clients.map((c) => c.jobId).filter((j): j is string => j !== undefined));
    for (const jobId of jobIds) {
      const [job, cps] = await Promise.all([
        this.api.job(jobId).then(
          (b) => JSON.stringify(b),
          () => undefined,
        ),
        this.api.checkpoints(jobId).then(
          (b) => JSON.stringify(b),
          () => undefined,
        ),
      ]);
      for (const c of clients) {
        if (c.jobId !== jobId) continue;
        if (job !== undefined && job !== c.last.job) this.write(c, `event: job\ndata: ${(c.last.job = job)}\n\n`);
        if (cps !== undefined && cps !== c.last.checkpoints) this.write(c, `event: checkpoints\ndata: ${(c.last.checkpoints = cps)}\n\n`);
      }
    }
  }

  private write(c: Client, text: string): void {
    if (!this.clients.has(c)) return;
    if (c.res.writableLength > MAX_BUFFERED_BYTES || c.res.destroyed) {
      this.clients.delete(c);
      c.res.destroy();
      return;
    }
    c.res.write(text);
  }

  /** Ends every stream and stops the timers. */
  close(): void {
    this.closed = true;
    this.stopTimers();
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
