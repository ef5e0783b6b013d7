/**
 * When an actor application spread over subtasks has ended (a bounded one: its ingresses are
 * exhausted). Each subtask, once passive (nothing waiting, delayed or out at a remote function), sends
 * every subtask a probe of the next round over the feedback loop, after it has every subtask's probe of
 * the round before. A probe is quiet when its sender handled and sent nothing since its previous one.
 * A round whose probes are all quiet proves nothing is in flight anywhere: the loop's channels are first
 * in, first out, so a message sent before a sender's probe r-1 arrived before that probe, that is before
 * its receiver's probe r, and made the receiver's probe r not quiet; and a passive subtask sends
 * nothing until it receives something. Every subtask sees the same probes and ends in the same round.
 * Probes are never checkpointed: after a restore every subtask starts again from round 0.
 */
import { keyGroupFor, operatorIndexForKeyGroup } from "../../state/key-groups.js";
import type { Probe } from "./feedback-channel.js";

export class TerminationRounds {
  /** The last round this subtask probed. */
  private round = 0;
  private readonly received = new Map<number, { count: number; quiet: boolean }>();
  /** Handled or sent something since the last probe. */
  private active = true;

  constructor(
    private readonly subtaskIndex: number,
    private readonly parallelism: number,
  ) {}

  /** This subtask handled or sent a message. */
  activity(): void {
    this.active = true;
  }

  /** A probe arrived (from any subtask, of any round). */
  onProbe(p: Probe): void {
    const r = this.received.get(p.probe) ?? { count: 0, quiet: true };
    r.count++;
    r.quiet &&= p.quiet;
    this.received.set(p.probe, r);
  }

  /**
   * This subtask is passive: "ended" when the last round's probes are all in and all quiet; a probe
   * to send to every subtask when they are all in but not all quiet (or none was sent yet); else
   * "wait" for the rest of them.
   */
  passive(): "ended" | "wait" | Probe {
    const last = this.received.get(this.round);
    if (this.round > 0 && (last?.count ?? 0) < this.parallelism) return "wait";
    if (this.round > 0 && last!.quiet) return "ended";
    this.received.delete(this.round);
    this.round++;
    const probe: Probe = { probe: this.round, from: this.subtaskIndex, quiet: this.round > 1 && !this.active };
    this.active = false;
    return probe;
  }
}

/** For each subtask j of `parallelism`, a key the hash edge sends to subtask j (probes are addressed by it). */
export function probeKeys(maxParallelism: number, parallelism: number): string[] {
  const keys: string[] = new Array(parallelism);
  let found = 0;
  for (let k = 0; found < parallelism; k++) {
    const key = `~probe/${k}`;
    const j = operatorIndexForKeyGroup(maxParallelism, parallelism, keyGroupFor(key, maxParallelism));
    if (keys[j] === undefined) {
      keys[j] = key;
      found++;
    }
  }
  return keys;
}
