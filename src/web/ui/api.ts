/**
 * The dashboard's only way to its JobManager: JSON over fetch and the `/events` stream, both sending
 * the web token when the page has one. A 401 asks the user for the token and tries again. Paths are
 * relative to the page, so the dashboard also works behind a proxy that serves it under a sub-path.
 */
import { EventStreamParser } from "./event-stream.js";
import { askForToken, authHeader, currentToken } from "./token.js";
import type { CheckpointStats, JobDetails, OverviewEvent } from "./types.js";

/** A REST call that the server answered with an error status (its `errors` messages joined). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const REQUEST_TIMEOUT_MS = 15_000;
/** Tokens asked for one request at most (the user can also decline). */
const MAX_TOKEN_PROMPTS = 5;

interface Answer {
  status: number;
  ok: boolean;
  json: unknown;
  /** The server's `errors` joined, or the status line. */
  message: string;
}

/** One request as it is (no token prompt); an ApiError with status 0 when no answer came. */
async function send(method: string, path: string, body: unknown): Promise<Answer> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
  try {
    const res = await fetch(path.replace(/^\//, ""), {
      method,
      signal: ctl.signal,
      headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }), ...authHeader() },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const json: unknown = text ? safeParse(text) : undefined;
    return { status: res.status, ok: res.ok, json, message: messageOf(json, res) };
  } catch (err) {
    if ((err as Error).name === "AbortError") throw new ApiError(0, `${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
    throw new ApiError(0, `${method} ${path}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  for (let prompts = 0; ; prompts++) {
    const sent = currentToken();
    const a = await send(method, path, body);
    if (a.status === 401 && prompts < MAX_TOKEN_PROMPTS) {
      if (currentToken() !== sent) continue; // another request's prompt got a token meanwhile
      if ((await askForToken(a.message, method !== "GET")) !== undefined) continue;
    }
    if (!a.ok) throw new ApiError(a.status, a.message);
    return a.json as T;
  }
}

/** An error body's `errors` joined, else the status line. */
function messageOf(json: unknown, res: Response): string {
  const errors = (json as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) && errors.length > 0 ? errors.map(String).join("; ") : `${res.status} ${res.statusText}`;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body: unknown) => request<T>("POST", path, body),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, body),
  patch: <T>(path: string) => request<T>("PATCH", path),
};

/** What the live stream delivers. */
export interface LiveHandlers {
  overview?(e: OverviewEvent): void;
  job?(e: JobDetails): void;
  checkpoints?(e: CheckpointStats): void;
}

export type LiveStatus = "connecting" | "live" | "reconnecting" | "unauthorized";

/** A new stream after this pause when one ended or could not be opened (the server's `retry:`), ms. */
const RETRY_MS = 2_000;
/** A stream silent this long is given up (the server sends a heartbeat every 15 s), ms. */
const IDLE_MS = 40_000;

/** What to do after a stream ended: open another after a pause, open another now, or wait for the next navigation. */
type Next = "retry" | "now" | "stop";

/**
 * The `/events` stream: one at a time, for the cluster and at most one job, read with fetch so that it
 * carries the token like every other request. When it ends or cannot be opened (a JobManager
 * restarting) a new one opens after a pause; a 401 asks for the token, and when the user declines,
 * the stream waits for the next navigation.
 */
export class LiveFeed {
  private ctl: AbortController | undefined;
  private job: string | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private handlers: LiveHandlers = {};

  constructor(private readonly onStatus: (s: LiveStatus) => void) {}

  /** Follows the cluster and, with `job`, that job; reopens the stream only when the job changes. */
  follow(job: string | undefined, handlers: LiveHandlers): void {
    this.handlers = handlers;
    if (this.ctl && this.job === job) return;
    this.job = job;
    this.open();
  }

  close(): void {
    clearTimeout(this.retry);
    this.ctl?.abort();
    this.ctl = undefined;
  }

  private open(): void {
    this.close();
    const ctl = new AbortController();
    this.ctl = ctl;
    this.onStatus("connecting");
    void this.read(ctl).then((next) => {
      if (ctl !== this.ctl) return; // closed, or replaced by another stream
      if (next === "now") return this.open();
      if (next === "stop") {
        this.ctl = undefined;
        return this.onStatus("unauthorized");
      }
      this.onStatus("reconnecting");
      this.retry = setTimeout(() => this.open(), RETRY_MS);
    });
  }

  /** Reads one stream until it ends, delivering its events; never throws. */
  private async read(ctl: AbortController): Promise<Next> {
    let idle: ReturnType<typeof setTimeout> | undefined;
    const watch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => ctl.abort(), IDLE_MS);
    };
    try {
      watch();
      const sent = currentToken();
      const res = await fetch(this.job ? `events?job=${encodeURIComponent(this.job)}` : "events", {
        headers: { accept: "text/event-stream", ...authHeader() },
        cache: "no-store",
        signal: ctl.signal,
      });
      if (res.status === 401) {
        clearTimeout(idle);
        if (currentToken() !== sent) return "now";
        return (await askForToken(messageOf(safeParse(await res.text()), res), false)) !== undefined ? "now" : "stop";
      }
      if (!res.ok || !res.body) return "retry";
      this.onStatus("live");
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new EventStreamParser();
      for (;;) {
        watch();
        const { value, done } = await reader.read();
        if (done) return "retry";
        for (const ev of parser.push(value)) if (ctl === this.ctl) this.deliver(ev.type, ev.data);
      }
    } catch {
      return "retry"; // aborted, or the connection broke
    } finally {
      clearTimeout(idle);
    }
  }

  private deliver(type: string, text: string): void {
    const data = safeParse(text);
    if (data === undefined) return;
    this.onStatus("live");
    if (type === "overview") this.handlers.overview?.(data as OverviewEvent);
    else if (type === "job") this.handlers.job?.(data as JobDetails);
    else if (type === "checkpoints") this.handlers.checkpoints?.(data as CheckpointStats);
  }
}
