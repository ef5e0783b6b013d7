/**
 * Operator (non-keyed) state (Flink's DefaultOperatorStateBackend): named lists, each redistributed on
 * restore by its mode (Flink's RoundRobinOperatorStateRepartitioner):
 * - SPLIT_DISTRIBUTE ({@link DefaultOperatorStateBackend.getListState}): the entries of all old subtasks
 *   are concatenated in old-subtask order and new subtask i gets the i-th contiguous share; shares differ
 *   by at most one entry, the first `total % parallelism` subtasks get the larger ones. When the
 *   parallelism is unchanged, every subtask keeps its own entries (as Flink does).
 * - UNION ({@link DefaultOperatorStateBackend.getUnionListState}): every new subtask gets all entries of
 *   all old subtasks, in old-subtask order.
 */
import { ConflictError, EddyError, ErrorCode, ValidationError } from "../core/errors.js";
import type { ListState, OperatorStateBackend } from "./api.js";
import { type OperatorStateDescriptor, type OperatorStateMode, readOperatorSnapshot, writeOperatorSnapshot } from "./snapshot-format.js";

class OperatorListState<T> implements ListState<T> {
  entries: T[] = [];
  constructor(
    readonly name: string,
    readonly mode: OperatorStateMode,
  ) {}
  get(): readonly T[] {
    return this.entries;
  }
  add(value: T): void {
    this.check(value);
    this.entries.push(value);
  }
  addAll(values: readonly T[]): void {
    for (const v of values) this.check(v);
    for (const v of values) this.entries.push(v);
  }
  update(values: readonly T[]): void {
    for (const v of values) this.check(v);
    this.entries = values.slice();
  }
  clear(): void {
    this.entries = [];
  }
  private check(v: unknown): void {
    if (v === undefined || v === null)
      throw new ValidationError(ErrorCode.InvalidStateAccess, `operator list state "${this.name}": null and undefined entries are not allowed`);
  }
}

/** The share `[from, to)` of `total` entries that subtask `index` of `parallelism` gets on an even split. */
export function evenSplitShare(total: number, parallelism: number, index: number): { from: number; to: number } {
  const base = Math.floor(total / parallelism);
  const rem = total % parallelism;
  const from = index * base + Math.min(index, rem);
  return { from, to: from + base + (index < rem ? 1 : 0) };
}

/** Operator state of one subtask: named split-distributed and union list states. */
export class DefaultOperatorStateBackend implements OperatorStateBackend {
  private readonly states = new Map<string, OperatorListState<unknown>>();

  /** A list state redistributed by even split on rescaling (Flink's getListState). */
  getListState<T>(name: string): ListState<T> {
    return this.state<T>(name, "SPLIT_DISTRIBUTE");
  }

  /** A list state every subtask receives whole on restore (Flink's getUnionListState). */
  getUnionListState<T>(name: string): ListState<T> {
    return this.state<T>(name, "UNION");
  }

  /** Names and redistribution modes of all states (restored ones included), as an OperatorStateHandle lists them. */
  modes(): Record<string, OperatorStateMode> {
    const out: Record<string, OperatorStateMode> = {};
    for (const s of this.states.values()) out[s.name] = s.mode;
    return out;
  }

  /** True when no state holds an entry (a snapshot would restore to nothing). */
  isEmpty(): boolean {
    for (const s of this.states.values()) if (s.entries.length > 0) return false;
    return true;
  }

  /** All states and their entries in the canonical format (synchronous, consistent). */
  snapshot(): Uint8Array {
    const states: OperatorStateDescriptor[] = [];
    const lists: unknown[][] = [];
    for (const s of this.states.values()) {
      states.push({ name: s.name, mode: s.mode });
      lists.push(s.entries);
    }
    return writeOperatorSnapshot(states, lists);
  }

  /**
   * The backend of new subtask `subtaskIndex` of `parallelism`, from the snapshots of all old subtasks in
   * old-subtask order (see the module doc for the redistribution). A state name must keep its mode.
   */
  static restore(snapshots: readonly Uint8Array[], subtaskIndex: number, parallelism: number): DefaultOperatorStateBackend {
    if (!Number.isInteger(parallelism) || parallelism < 1)
      throw new ValidationError(ErrorCode.InvalidParallelism, `parallelism must be a positive integer, got ${parallelism}`);
    if (!Number.isInteger(subtaskIndex) || subtaskIndex < 0 || subtaskIndex >= parallelism) {
      throw new ValidationError(ErrorCode.InvalidParallelism, `subtask index ${subtaskIndex} is outside 0..${parallelism - 1}`);
    }
    const byName = new Map<string, { mode: OperatorStateMode; perOld: (unknown[] | undefined)[] }>();
    snapshots.forEach((bytes, old) => {
      const { states, lists } = readOperatorSnapshot(bytes);
      states.forEach((d, i) => {
        let e = byName.get(d.name);
        if (e === undefined) byName.set(d.name, (e = { mode: d.mode, perOld: new Array(snapshots.length) }));
        else if (e.mode !== d.mode)
          throw new EddyError(ErrorCode.StateCorrupt, `operator state "${d.name}" is ${e.mode} in one snapshot and ${d.mode} in another`);
        e.perOld[old] = lists[i];
      });
    });
    const backend = new DefaultOperatorStateBackend();
    const keep = snapshots.length === parallelism;
    for (const [name, { mode, perOld }] of byName) {
      const s = new OperatorListState<unknown>(name, mode);
      if (mode === "SPLIT_DISTRIBUTE" && keep) {
        s.entries = perOld[subtaskIndex] ?? [];
      } else {
        const all: unknown[] = [];
        for (const l of perOld) if (l !== undefined) for (const v of l) all.push(v);
        if (mode === "UNION") s.entries = all;
        else {
          const { from, to } = evenSplitShare(all.length, parallelism, subtaskIndex);
          s.entries = all.slice(from, to);
        }
      }
      backend.states.set(name, s);
    }
    return backend;
  }

  private state<T>(name: string, mode: OperatorStateMode): ListState<T> {
    let s = this.states.get(name);
    if (s === undefined) this.states.set(name, (s = new OperatorListState<unknown>(name, mode)));
    else if (s.mode !== mode) {
      throw new ConflictError(ErrorCode.InvalidStateAccess, `operator state "${name}" is a ${s.mode} list state, it cannot be used as a ${mode} list state`);
    }
    return s as OperatorListState<T>;
  }
}
