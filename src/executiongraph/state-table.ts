import type { AnyStateMachine } from "xstate";
import { IllegalStateTransitionError } from "../core/errors.js";

/**
 * The transitions of a flat XState machine whose events are named after their target state,
 * read once from the machine definition, for O(1) checks on hot paths (thousands of executions).
 * The machine stays the single source of truth: this table is derived from it, never written by hand.
 */
export class StateTable<S extends string> {
  private readonly next = new Map<string, Set<string>>();
  private readonly finals = new Set<string>();

  constructor(readonly machine: AnyStateMachine) {
    for (const [name, node] of Object.entries(
      machine.states as Record<string, { transitions: Map<string, Array<{ target?: Array<{ key: string }> }>>; type: string }>,
    )) {
      const targets = new Set<string>();
      for (const [event, defs] of node.transitions) {
        for (const d of defs) {
          if (d.target?.[0]?.key !== event) throw new Error(`${machine.id}: event ${event} must target the state of the same name`);
          targets.add(event);
        }
      }
      this.next.set(name, targets);
      if (node.type === "final") this.finals.add(name);
    }
  }

  /** True when `from` may go to `to`. */
  can(from: S, to: S): boolean {
    return this.next.get(from)?.has(to) ?? false;
  }

  /** Returns `to`, or throws {@link IllegalStateTransitionError}. */
  check(from: S, to: S): S {
    if (!this.can(from, to)) throw new IllegalStateTransitionError(this.machine.id, from, to);
    return to;
  }

  /** True for a final state of the machine. */
  isFinal(s: S): boolean {
    return this.finals.has(s);
  }

  /** Every state with its allowed successors (for docs and tests). */
  entries(): Array<[S, S[]]> {
    return [...this.next].map(([k, v]) => [k as S, [...v] as S[]]);
  }
}
