import { pino, type Logger } from "pino";

export type { Logger };

/** The process logger: one JSON line per event that matters; level from EDDY_LOG_LEVEL. */
export function createLogger(component: string, extra: Record<string, unknown> = {}): Logger {
  const level = process.env.EDDY_LOG_LEVEL ?? "info";
  return pino({ level, base: { component, pid: process.pid, ...extra } }, pino.destination({ dest: 2, sync: true }));
}

/**
 * One logger that writes nothing, shared: every actor starts with it before its owner hands it the
 * real one, and a pino instance costs tens of microseconds to build.
 */
let silent: Logger | undefined;

/** A logger that writes nothing (tests, embedded use, an actor before it is given its logger). */
export function silentLogger(): Logger {
  silent ??= pino({ level: "silent" });
  return silent;
}

/** A logger that appends JSON lines to the file `dest` (its folder created), at `level` (test diagnostics). */
export function fileLogger(dest: string, level = "debug"): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest, mkdir: true, sync: true }));
}
