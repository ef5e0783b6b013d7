/**
 * The dashboard's only way to its JobManager: JSON over fetch and the `/events` stream. Paths are
 * relative to the page, so the dashboard also works behind a proxy that serves it under a sub-path.
 */
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

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
  try {
    const res = await fetch(path.replace(/^\//, ""), {
      method,
      signal: ctl.signal,
      headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const json: unknown = text ? safeParse(text) : undefined;
    if (!res.ok) {
      const errors = (json as { errors?: unknown } | undefined)?.errors;
      const msg = Array.isArray(errors) && errors.length > 0 ? errors.map(String).join("; ") : `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, msg);
    }
    return json as T;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if ((err as Error).name === "AbortError") throw new ApiError(0, `${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
    throw new ApiError(0, `${method} ${path}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
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

export type LiveStatus = "connecting" | "live" | "reconnecting";

/**
 * The `/events` stream: one EventSource at a time, for the cluster and at most one job. The browser
 * reconnects an EventSource by itself after a dropped connection; when it gives up (an answer that
 * is not an event stream, e.g. while a JobManager restarts) this opens a new one after a pause.
 */
export class LiveFeed {
  private source: EventSource | undefined;
  private job: string | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private handlers: LiveHandlers = {};

  constructor(private readonly onStatus: (s: LiveStatus) => void) {}

  /** Follows the cluster and, with `job`, that job; reopens the stream only when the job changes. */
  follow(job: string | undefined, handlers: LiveHandlers): void {
    this.handlers = handlers;
    if (this.source && this.job === job) return;
    this.job = job;
    this.open();
  }

  close(): void {
    clearTimeout(this.retry);
    this.source?.close();
    this.source = undefined;
  }

  private open(): void {
    this.close();
    this.onStatus("connecting");
    const src = new EventSource(this.job ? `events?job=${encodeURIComponent(this.job)}` : "events");
    this.source = src;
    src.onopen = () => this.onStatus("live");
    src.onerror = () => {
      if (src !== this.source) return;
      this.onStatus("reconnecting");
      if (src.readyState === EventSource.CLOSED) this.retry = setTimeout(() => this.open(), 2_000);
    };
    this.listen(src, "overview", (d) => this.handlers.overview?.(d as OverviewEvent));
    this.listen(src, "job", (d) => this.handlers.job?.(d as JobDetails));
    this.listen(src, "checkpoints", (d) => this.handlers.checkpoints?.(d as CheckpointStats));
  }

  private listen(src: EventSource, type: string, deliver: (data: unknown) => void): void {
    src.addEventListener(type, (ev) => {
      if (src !== this.source) return;
      this.onStatus("live");
      const data = safeParse((ev as MessageEvent<string>).data);
      if (data !== undefined) deliver(data);
    });
  }
}
