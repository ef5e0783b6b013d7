/**
 * Flink's InternalTimerService for one keyed operator: event-time timers fired when the watermark
 * reaches them, processing-time timers fired by the wall clock. Every timer belongs to a key and a
 * namespace (a window, or 0 for process functions) and is kept in the operator's keyed state (one map
 * state per time domain, `"<ts>|<namespace>"` → 1), so timers are snapshotted with the state at every
 * checkpoint and move with their key group on rescale; `restore()` rebuilds the in-memory queues from
 * the state the backend restored. Registering the same (key, namespace, time) twice keeps one timer.
 *
 * An operator whose own keyed state implies its timers (the window operator: a window's times follow
 * from its bounds) queues them with {@link InternalTimerService.queueEventTimeTimer} instead: in memory
 * only, queued again by the operator from its state after a restore. That saves a keyed-state write
 * per registration and a delete per firing, and keeps the timers out of every snapshot.
 */
import { EddyError, ErrorCode } from "../../core/errors.js";
import { MIN_WATERMARK } from "../../core/stream-events.js";
import type { KeyedStateBackend, MapState } from "../../state/api.js";

/** A namespace: a number (a window's start) or a string. */
export type Namespace = number | string;

/** Who is told when a timer fires (the current key is already set on the backend). */
export interface Triggerable {
  onEventTime(timestamp: number, namespace: Namespace): void;
  onProcessingTime(timestamp: number, namespace: Namespace): void;
}

/** A keyed backend that can list the keys of a state (the heap backend can). */
export type TimerBackend = KeyedStateBackend & { keys(name: string): Iterable<unknown> };

/**
 * The timers of one time, in registration order: keys, namespaces and ids side by side, three array
 * slots per timer instead of an object of four fields each (windowed-events queues two timers
 * per window); the time is the bucket's.
 */
class TimerBucket {
  readonly keys: unknown[] = [];
  readonly namespaces: Namespace[] = [];
  readonly ids: string[] = [];
  constructor(readonly ts: number) {}
  get length(): number {
    return this.ids.length;
  }
  add(key: unknown, ns: Namespace, id: string): void {
    this.keys.push(key);
    this.namespaces.push(ns);
    this.ids.push(id);
  }
}

/**
 * Timers by time: one bucket per distinct time, the distinct times in a binary min-heap. The keys of
 * an operator register their timers for the same few times (every key's window of one period ends at
 * the same time), so the heap stays small and a timer is queued and taken without sifting through the
 * timers of every key. Within a time, timers fire in registration order (Flink does not order ties).
 */
class TimerQueue {
  private readonly times: number[] = [];
  private readonly buckets = new Map<number, TimerBucket>();
  private count = 0;
  get size(): number {
    return this.count;
  }
  /** The earliest time with a timer, or undefined. */
  peekTime(): number | undefined {
    return this.times[0];
  }
  push(ts: number, key: unknown, ns: Namespace, id: string): void {
    let bucket = this.buckets.get(ts);
    if (bucket === undefined) {
      bucket = new TimerBucket(ts);
      this.buckets.set(ts, bucket);
      this.pushTime(ts);
    }
    bucket.add(key, ns, id);
    this.count++;
  }
  /** Removes and returns the timers of the earliest time (call when {@link peekTime} is defined). */
  takeEarliest(): TimerBucket {
    const ts = this.popTime();
    const bucket = this.buckets.get(ts)!;
    this.buckets.delete(ts);
    this.count -= bucket.length;
    return bucket;
  }
  private pushTime(ts: number): void {
    const a = this.times;
    let i = a.push(ts) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= ts) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = ts;
  }
  private popTime(): number {
    const a = this.times;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1]! < a[l]! ? l + 1 : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** The id of a timer kept only in the queue ({@link InternalTimerService.queueEventTimeTimer}): no keyed-state entry. */
const QUEUED_ONLY = "";

function timerId(ts: number, ns: Namespace): string {
  return `${ts}|${typeof ns === "number" ? "n" : "s"}${ns}`;
}

/** Entries of {@link TimerIds}. */
const TIMER_ID_CACHE = 8;

/**
 * The last few timer ids built: the keys of an operator register the same (time, namespace) pairs
 * (every key's tumbling window of one period has the same bounds), and building the id string was the
 * largest cost of registering a timer.
 */
class TimerIds {
  private readonly ts = new Float64Array(TIMER_ID_CACHE).fill(Number.NaN);
  private readonly ns: Namespace[] = new Array<Namespace>(TIMER_ID_CACHE).fill("");
  private readonly ids: string[] = new Array<string>(TIMER_ID_CACHE).fill("");
  private next = 0;

  of(ts: number, ns: Namespace): string {
    for (let i = 0; i < TIMER_ID_CACHE; i++) if (this.ts[i] === ts && this.ns[i] === ns) return this.ids[i]!;
    const id = timerId(ts, ns);
    const i = this.next;
    this.ts[i] = ts;
    this.ns[i] = ns;
    this.ids[i] = id;
    this.next = (i + 1) % TIMER_ID_CACHE;
    return id;
  }
}

function parseTimerId(id: string): { ts: number; ns: Namespace } {
  const bar = id.indexOf("|");
  const ts = Number(id.slice(0, bar));
  const rest = id.slice(bar + 1);
  if (bar < 1 || Number.isNaN(ts) || (rest[0] !== "n" && rest[0] !== "s"))
    throw new EddyError(ErrorCode.StateCorrupt, `malformed timer entry "${id}" in restored state`);
  return { ts, ns: rest[0] === "n" ? Number(rest.slice(1)) : rest.slice(1) };
}

/** The timer service of one operator; see the module comment. */
export class InternalTimerService {
  private readonly eventState: MapState<string, 1>;
  private readonly procState: MapState<string, 1>;
  private readonly eventQueue = new TimerQueue();
  private readonly procQueue = new TimerQueue();
  private readonly ids = new TimerIds();
  private watermark = MIN_WATERMARK;
  private clock: ReturnType<typeof setTimeout> | null = null;
  private armedFor = Number.POSITIVE_INFINITY;
  private closed = false;
  private firing = false;

  /**
   * @param name distinguishes the timer states of several services of one operator
   * @param onError a processing-time timer callback threw (the operator should fail)
   */
  constructor(
    private readonly backend: TimerBackend,
    private readonly target: Triggerable,
    private readonly name = "timers",
    private readonly onError: (err: unknown) => void = (err) => {
      throw err;
    },
  ) {
    this.eventState = backend.getMapState<string, 1>(`__${name}_event`);
    this.procState = backend.getMapState<string, 1>(`__${name}_proc`);
  }

  /** The last watermark passed to {@link advanceWatermark}. */
  currentWatermark(): number {
    return this.watermark;
  }

  /**
   * Sets the watermark a restored operator had at its checkpoint, without firing anything (its due
   * timers fired before the snapshot). Elements before the next watermark are then judged as before.
   */
  restoreWatermark(watermark: number): void {
    if (watermark > this.watermark) this.watermark = watermark;
  }

  /** Timers waiting (both domains; deleted ones may still count until their time). */
  get queued(): number {
    return this.eventQueue.size + this.procQueue.size;
  }

  /** Rebuilds the queues from the keyed state (after the backend restored a snapshot), then arms the clock. */
  restore(): void {
    const prior = this.backend.getCurrentKey();
    for (const [stateName, queue] of [
      [`__${this.name}_event`, this.eventQueue],
      [`__${this.name}_proc`, this.procQueue],
    ] as const) {
      const state = stateName.endsWith("_event") ? this.eventState : this.procState;
      for (const key of [...this.backend.keys(stateName)]) {
        this.backend.setCurrentKey(key);
        for (const id of state.keys()) {
          const { ts, ns } = parseTimerId(id);
          queue.push(ts, key, ns, id);
        }
      }
    }
    if (prior !== undefined) this.backend.setCurrentKey(prior);
    this.arm();
  }

  /** An event-time timer for the current key. */
  registerEventTimeTimer(ns: Namespace, ts: number): void {
    const id = this.ids.of(ts, ns);
    if (!this.eventState.putIfAbsent(id, 1)) return;
    this.eventQueue.push(ts, this.backend.getCurrentKey(), ns, id);
  }

  /**
   * An event-time timer for the current key kept in memory only: not in keyed state, so not in
   * snapshots, not deduplicated and not deletable. For an operator that queues it again from its own
   * state after a restore, and that ignores a timer whose reason has gone (a window already removed).
   */
  queueEventTimeTimer(ns: Namespace, ts: number): void {
    this.eventQueue.push(ts, this.backend.getCurrentKey(), ns, QUEUED_ONLY);
  }

  deleteEventTimeTimer(ns: Namespace, ts: number): void {
    this.eventState.remove(this.ids.of(ts, ns));
  }

  /** A processing-time timer for the current key (ms since the epoch). */
  registerProcessingTimeTimer(ns: Namespace, ts: number): void {
    const id = this.ids.of(ts, ns);
    if (!this.procState.putIfAbsent(id, 1)) return;
    this.procQueue.push(ts, this.backend.getCurrentKey(), ns, id);
    if (ts < this.armedFor) this.arm();
  }

  deleteProcessingTimeTimer(ns: Namespace, ts: number): void {
    this.procState.remove(this.ids.of(ts, ns));
  }

  /**
   * Fires, in time order, every event-time timer at or before `watermark` (timers registered while
   * firing are fired too when due). The current key is left at the last timer's key.
   */
  advanceWatermark(watermark: number): void {
    if (watermark > this.watermark) this.watermark = watermark;
    const q = this.eventQueue;
    for (let ts = q.peekTime(); ts !== undefined && ts <= this.watermark; ts = q.peekTime()) {
      this.fire(q, q.takeEarliest(), this.eventState, true);
    }
  }

  /** Fires the timers of one time that were not deleted; those after one that throws stay queued. */
  private fire(q: TimerQueue, due: TimerBucket, state: MapState<string, 1>, eventTime: boolean): void {
    const { ts, keys, namespaces, ids } = due;
    const n = ids.length;
    let i = 0;
    try {
      for (; i < n; i++) {
        this.backend.setCurrentKey(keys[i]);
        const id = ids[i]!;
        if (id !== QUEUED_ONLY && !state.remove(id)) continue; // deleted
        if (eventTime) this.target.onEventTime(ts, namespaces[i]!);
        else this.target.onProcessingTime(ts, namespaces[i]!);
      }
    } catch (err) {
      for (let j = i + 1; j < n; j++) q.push(ts, keys[j], namespaces[j]!, ids[j]!);
      throw err;
    }
  }

  /** Fires every processing-time timer due by `now` (the clock does this by itself). */
  advanceProcessingTime(now = Date.now()): void {
    if (this.firing || this.closed) return;
    this.firing = true;
    try {
      const q = this.procQueue;
      for (let ts = q.peekTime(); ts !== undefined && ts <= now; ts = q.peekTime()) this.fire(q, q.takeEarliest(), this.procState, false);
    } finally {
      this.firing = false;
    }
    this.arm();
  }

  /** Stops the clock (task end or cancel); the timers stay in state for the next attempt. */
  close(): void {
    this.closed = true;
    if (this.clock !== null) clearTimeout(this.clock);
    this.clock = null;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    if (this.closed) return;
    const next = this.procQueue.peekTime();
    if (next === undefined) return;
    if (this.clock !== null) {
      if (next >= this.armedFor) return;
      clearTimeout(this.clock);
    }
    this.armedFor = next;
    const delay = Math.max(0, Math.min(next - Date.now(), 2_147_000_000));
    this.clock = setTimeout(() => {
      this.clock = null;
      this.armedFor = Number.POSITIVE_INFINITY;
      try {
        this.advanceProcessingTime();
      } catch (err) {
        this.close();
        this.onError(err);
      }
    }, delay);
  }
}
