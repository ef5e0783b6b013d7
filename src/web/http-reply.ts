/**
 * The web server's replies and refusals: JSON bodies, Flink's error body `{"errors": [...]}` (with
 * Eddy's stable code beside it), and the mapping of Eddy's error codes to HTTP statuses.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { EddyError, ErrorCode, toEddyError } from "../core/errors.js";

/** A refusal with its HTTP status: thrown by handlers, answered as `{"errors": [message], "code"}`. */
export class HttpError extends EddyError {
  override name = "HttpError";
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

/** What a handler answers: JSON (default 200), text with a content type (and headers), or nothing (it wrote the response itself). */
export type Reply =
  | { json: unknown; status?: number }
  | { text: string | Buffer; type: string; status?: number; headers?: Record<string, string> }
  | { handled: true };

const NOT_FOUND: ReadonlySet<ErrorCode> = new Set([ErrorCode.JobNotFound, ErrorCode.VertexNotFound, ErrorCode.SavepointNotFound, ErrorCode.UnknownPath]);
const BAD_REQUEST: ReadonlySet<ErrorCode> = new Set([ErrorCode.MalformedRequest, ErrorCode.PayloadTooLarge, ErrorCode.InvalidParallelism]);
const CONFLICT: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.DuplicateJobId,
  ErrorCode.JobAlreadyTerminal,
  ErrorCode.JobInitializing,
  ErrorCode.RescaleNotSupported,
  ErrorCode.JobResultNotReady,
]);
const UNAVAILABLE: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.NoResponders,
  ErrorCode.RpcTimeout,
  ErrorCode.NotLeader,
  ErrorCode.ClusterUnreachable,
  ErrorCode.Shutdown,
  ErrorCode.Unavailable,
]);

/** The HTTP status of a failure: 404 unknown, 400 malformed, 409 refused in the current state, 503 no answer now, else 500. */
export function statusOf(err: EddyError): number {
  if (err instanceof HttpError) return err.status;
  if (NOT_FOUND.has(err.code)) return 404;
  if (BAD_REQUEST.has(err.code)) return 400;
  if (CONFLICT.has(err.code) || err.name === "ConflictError") return 409;
  if (UNAVAILABLE.has(err.code)) return 503;
  return 500;
}

/** Writes `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(data),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(data);
}

/** Writes a failure as Flink's error body; returns the status written. */
export function sendError(res: ServerResponse, err: unknown): number {
  const e = toEddyError(err);
  const status = statusOf(e);
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  sendJson(res, status, { errors: [e.message], code: e.code }, e instanceof HttpError ? e.headers : {});
  return status;
}

/** The largest request body read (every body the API takes is a few hundred bytes). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a JSON request body of at most {@link MAX_BODY_BYTES}: 400 when it is larger (the rest is not
 * read), not JSON, or not an object. An empty body is `{}`.
 */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, ErrorCode.MalformedRequest, `the request body is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new HttpError(400, ErrorCode.MalformedRequest, "the request body must be a JSON object");
  return v as Record<string, unknown>;
}

function tooLarge(): HttpError {
  return new HttpError(400, ErrorCode.PayloadTooLarge, `the request body is larger than ${MAX_BODY_BYTES} bytes`, { connection: "close" });
}
