/**
 * The heap backend's state tables and their copy-on-write snapshots (the idea of Flink's
 * CopyOnWriteStateTable and CopyOnWriteStateTableSnapshot). A table keeps one `Map` per key group.
 * Taking a snapshot is cheap and synchronous: it remembers the current `Map` of every key group
 * (O(key groups), no entry is touched). From then on the table copies before it writes:
 * - the first write to a key group whose `Map` a snapshot still holds replaces it by a shallow copy
 *   (the snapshot keeps the old one);
 * - a value that is changed in place (a list appended to, a map state's inner map, an accumulator, a
 *   value read for possible mutation) is deep-copied (`structuredClone`) the first time it is touched
 *   while a snapshot still holds it, so the snapshot never sees it change.
 * The snapshot serializes key group by key group, asynchronously (the task processes records in
 * between), and lets go of each key group once it is written, so copying stops group by group too.
 */
import type { KeyedStateType } from "./snapshot-format.js";
import { KeyedSnapshotWriter, concatBytes, type KeyedSnapshotMeta } from "./snapshot-format.js";

/** A key group's entries: normalized key → value. */
export type GroupMap = Map<unknown, unknown>;

/** One named keyed state: its type and one map per key group of the range. */
export class StateTable {
  readonly groups: (GroupMap | undefined)[];
  /** The key-group maps held by snapshots still being written, one array per snapshot. */
  readonly frozen: (GroupMap | undefined)[][] = [];

  constructor(
    readonly name: string,
    readonly type: KeyedStateType,
    numGroups: number,
  ) {
    this.groups = new Array<GroupMap | undefined>(numGroups).fill(undefined);
  }

  /** The map of key group `g` to write into (created when missing; copied first when a snapshot holds it). */
  writable(g: number): GroupMap {
    let m = this.groups[g];
    if (m === undefined) return (this.groups[g] = new Map());
    if (this.frozen.length !== 0 && this.held(g, m)) this.groups[g] = m = new Map(m);
    return m;
  }

  /**
   * `v`, the value of `mapKey` in the writable map `m` of key group `g`, made safe to change in place:
   * when a snapshot still holds this very object it is replaced by a deep copy, which is answered.
   */
  own<T>(g: number, m: GroupMap, mapKey: unknown, v: T): T {
    if (this.frozen.length === 0 || typeof v !== "object" || v === null) return v;
    for (const f of this.frozen) {
      if (f[g]?.get(mapKey) === v) {
        const c = structuredClone(v);
        m.set(mapKey, c);
        return c;
      }
    }
    return v;
  }

  private held(g: number, m: GroupMap): boolean {
    for (const f of this.frozen) if (f[g] === m) return true;
    return false;
  }
}

/** How a snapshot turns one key group of its tables into a section (see snapshot-format.ts). */
export type SectionBuilder = (tables: readonly StateTable[], maps: readonly (GroupMap | undefined)[]) => unknown[] | undefined;

/**
 * A keyed-state snapshot taken at one instant and serialized later, piece by piece (version 2 of the
 * canonical format: header, key groups in order, offset index). Reading it never sees a write made
 * after it was taken. {@link release} (or the end of the data) stops the copy-on-write.
 */
export class HeapKeyedStateSnapshot {
  private readonly writer: KeyedSnapshotWriter;
  private readonly views: (GroupMap | undefined)[][];
  private next = -1;
  private released = false;
  private canceled: string | undefined;
  /** Bytes answered so far. */
  bytes = 0;

  constructor(
    private readonly meta: KeyedSnapshotMeta,
    private readonly tables: readonly StateTable[],
    private readonly section: SectionBuilder,
  ) {
    this.writer = new KeyedSnapshotWriter(meta);
    this.views = tables.map((t) => {
      const view = t.groups.slice();
      t.frozen.push(view);
      return view;
    });
  }

  /** True once every byte was read. */
  get done(): boolean {
    return this.next > this.groupCount;
  }

  private get groupCount(): number {
    return this.meta.keyGroupRange.end - this.meta.keyGroupRange.start + 1;
  }

  /**
   * The next pieces of the snapshot, together at least `minBytes` long unless the end comes first;
   * null after the end. Throws once {@link cancel}ed.
   */
  read(minBytes: number): Uint8Array[] | null {
    if (this.canceled !== undefined) throw new Error(`snapshot canceled: ${this.canceled}`);
    if (this.done) return null;
    const out: Uint8Array[] = [];
    let n = 0;
    if (this.next < 0) {
      out.push(this.writer.header());
      n += out[0]!.length;
      this.next = 0;
    }
    const maps = new Array<GroupMap | undefined>(this.tables.length);
    while (n < minBytes && this.next < this.groupCount) {
      const g = this.next++;
      for (let s = 0; s < this.views.length; s++) {
        maps[s] = this.views[s]![g];
        this.views[s]![g] = undefined; // written: writes to this group need no copy any more
      }
      const piece = this.writer.group(this.section(this.tables, maps));
      if (piece.length) out.push(piece);
      n += piece.length;
    }
    if (this.next === this.groupCount && n < minBytes) {
      const t = this.writer.trailer();
      out.push(t);
      n += t.length;
      this.next++;
      this.release();
    }
    this.bytes += n;
    return out;
  }

  /** The whole (rest of the) snapshot as one array. */
  readAll(): Uint8Array {
    const pieces: Uint8Array[] = [];
    for (let p = this.read(Infinity); p !== null; p = this.read(Infinity)) pieces.push(...p);
    return concatBytes(pieces);
  }

  /** Stops the copy-on-write for this snapshot (idempotent); reading on is not allowed after a release mid-way. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.tables.forEach((t, i) => {
      const k = t.frozen.indexOf(this.views[i]!);
      if (k >= 0) t.frozen.splice(k, 1);
    });
    if (!this.done) this.canceled ??= "released before the end";
  }

  /** Abandons the snapshot: further reads throw (an upload in progress fails), the tables stop copying. */
  cancel(reason: string): void {
    this.canceled ??= reason;
    this.release();
  }
}
