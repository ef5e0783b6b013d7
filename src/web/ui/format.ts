/** How the dashboard writes numbers, sizes, times and durations. Every function takes what a server may leave out. */

const DASH = "–";

/** A count with thousands separators. */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? DASH : Math.round(n).toLocaleString("en-US");
}

/** A rate per second, short (`12.3k/s`). */
export function rate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return `${compact(n)}/s`;
}

/** A number with a k/M/G suffix and at most three significant digits. */
export function compact(n: number): string {
  const a = Math.abs(n);
  if (a < 1000) return a >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(a >= 10 ? 1 : 2).replace(/\.?0+$/, "");
  const units = ["k", "M", "G", "T"];
  let v = n;
  let i = -1;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Math.abs(v) >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, "")}${units[i]}`;
}

/** Bytes in binary units (`1.5 MiB`). */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return DASH;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** A duration in ms as `1h 02m`, `3m 04s`, `5.2s` or `120ms`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return DASH;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const hh = Math.floor((s % 86_400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (d > 0) return `${d}d ${pad(hh)}h`;
  if (hh > 0) return `${hh}h ${pad(mm)}m`;
  if (mm > 0) return `${mm}m ${pad(ss)}s`;
  return `${ss}s`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A time in ms since the epoch as local `HH:MM:SS`, with the date when it is not today. */
export function time(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return DASH;
  const d = new Date(ms);
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const today = new Date(now);
  if (d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate()) return t;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}`;
}

/** How long ago `ms` was, from `now` (`3s ago`). */
export function ago(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return DASH;
  return `${duration(Math.max(0, now - ms))} ago`;
}

/** A ratio 0..1 as a percentage. */
export function percent(r: number | null | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return DASH;
  return `${Math.round(r * 100)}%`;
}

/** Flink's back-pressure level of a ratio: ok up to 0.10, low up to 0.50, high above. */
export function backPressureLevel(ratio: number | null | undefined): "ok" | "low" | "high" | undefined {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return undefined;
  return ratio <= 0.1 ? "ok" : ratio <= 0.5 ? "low" : "high";
}

/** A watermark: none yet (Long.MIN_VALUE in Flink, null here) or a time. */
export function watermark(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= -9e15) return "no watermark";
  if (ms >= 9e15) return "end of input";
  // Watermarks advance in milliseconds: show them.
  return `${time(ms, now)}.${String(Math.floor(ms) % 1000).padStart(3, "0")}`;
}

/** The duration of a job or task: its own when it ended, else the time since it started. */
export function runningFor(start: number, end: number, dur: number | undefined, now = Date.now()): string {
  if (dur !== undefined && dur >= 0 && end > 0) return duration(dur);
  if (start > 0) return duration(now - start);
  return duration(dur);
}

/**
 * Flink's `timeSinceLastHeartbeat` holds, despite its name, the time of the last heartbeat (ms since
 * the epoch); a small value is read as the age itself. 0 or absent: never.
 */
export function heartbeatAge(v: number | null | undefined, now = Date.now()): string {
  if (v === null || v === undefined || !Number.isFinite(v) || v <= 0) return DASH;
  return `${duration(v > 1e12 ? Math.max(0, now - v) : v)} ago`;
}
