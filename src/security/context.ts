/**
 * Context files: where a process or user finds its NATS server and credentials. The format is the
 * NATS CLI's (`nats context`), so the same file works with `nats --context FILE`; Eddy adds
 * `eddy_web_token` (the dashboard's write token, in the admin context only).
 */
import { chmodSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { ErrorCode, ValidationError } from "../core/errors.js";
import { DEFAULT_NATS_URL } from "../core/config.js";
import type { NatsAuth } from "../rpc/nats.js";
import { s, type Infer } from "../schema/index.js";

const field = s.optional(s.str({ max: 4096 }));

/** The fields Eddy reads; the NATS CLI's other fields are kept in the file and ignored here. */
export const NatsContext = s.object({
  description: field,
  url: field,
  user: field,
  password: field,
  cert: field,
  key: field,
  ca: field,
  inbox_prefix: s.optional(s.str({ max: 200, pattern: /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/ })),
  eddy_web_token: field,
});
export type NatsContext = Infer<typeof NatsContext>;

/** Reads and checks a context file; a missing or malformed one is a MalformedRequest naming the file. */
export function readContext(path: string): NatsContext {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ValidationError(ErrorCode.MalformedRequest, `cannot read the context file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(ErrorCode.MalformedRequest, `the context file ${path} is not JSON: ${(err as Error).message}`);
  }
  try {
    return NatsContext(json, "");
  } catch (err) {
    throw new ValidationError(ErrorCode.MalformedRequest, `the context file ${path} is malformed: ${(err as Error).message}`);
  }
}

/** Writes a context file readable by its owner only (mode 0600, written whole then renamed). */
export function writeContext(path: string, ctx: NatsContext): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(ctx, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600); // the mode of writeFileSync is masked by the umask
  renameSync(tmp, path);
}

/** The credentials of a context, as a connection takes them. */
export function authOf(ctx: NatsContext): NatsAuth {
  const tls = ctx.ca || ctx.cert || ctx.key ? { caFile: ctx.ca, certFile: ctx.cert, keyFile: ctx.key } : undefined;
  return {
    ...(ctx.user !== undefined ? { user: ctx.user, password: ctx.password ?? "" } : {}),
    ...(tls ? { tls: Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) } : {}),
    ...(ctx.inbox_prefix ? { inboxPrefix: ctx.inbox_prefix } : {}),
  };
}

/** Where a command connects, and as whom. */
export interface NatsTarget {
  url: string;
  auth: NatsAuth;
  /** The context file used, if any. */
  contextPath?: string;
  /** The context's web token (admin context). */
  webToken?: string;
}

/**
 * Resolves `--nats` and `--context` (else `EDDY_CONTEXT`): the URL is `--nats`, else the context's,
 * else `EDDY_NATS_URL`, else the default; credentials come from the context only.
 */
export function resolveNatsTarget(flags: { nats?: string; context?: string }, env: NodeJS.ProcessEnv = process.env): NatsTarget {
  const contextPath = flags.context || env.EDDY_CONTEXT || undefined;
  const ctx = contextPath ? readContext(contextPath) : undefined;
  const url = flags.nats || ctx?.url || env.EDDY_NATS_URL || DEFAULT_NATS_URL;
  return {
    url,
    auth: ctx ? authOf(ctx) : {},
    ...(contextPath ? { contextPath } : {}),
    ...(ctx?.eddy_web_token ? { webToken: ctx.eddy_web_token } : {}),
  };
}
