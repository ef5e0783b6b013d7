/** The ready line of `eddy cluster`: `eddy cluster ready nats=<url> [web=<url>] [context=<admin context>]`. */
export interface ReadyLine {
  nats: string;
  web?: string;
  /** The admin context of a secured cluster. */
  context?: string;
}

/** Parses a ready line; throws on anything else. */
export function parseReadyLine(line: string): ReadyLine {
  const m = /^eddy cluster ready nats=(\S+)(?: web=(\S+))?(?: context=(\S+))?$/.exec(line);
  if (!m) throw new Error(`not a ready line: ${line}`);
  return { nats: m[1]!, ...(m[2] ? { web: m[2] } : {}), ...(m[3] ? { context: m[3] } : {}) };
}

/** The environment of a command run against that cluster (with the admin context when secured). */
export function readyEnv(ready: ReadyLine, prefix: string): { natsUrl: string; prefix: string; env: Record<string, string> } {
  return { natsUrl: ready.nats, prefix, env: ready.context ? { EDDY_CONTEXT: ready.context } : {} };
}
