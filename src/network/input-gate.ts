/**
 * An input gate (Flink's SingleInputGate): the channels of a task reading one consumed result, and
 * their pool of floating credits, lent to the channels whose producers report a backlog.
 */
import type { InputGateDeploymentDescriptor } from "../deployment/descriptors.js";
import type { InputChannel } from "./input-channel.js";

/** The channels reading one consumed result, and their pool of floating credits. */
export class InputGate {
  readonly channels: InputChannel[] = [];
  private readonly hungry = new Set<InputChannel>();

  constructor(
    readonly index: number,
    readonly desc: InputGateDeploymentDescriptor,
    /** Floating credits not lent to any channel. */
    private pool: number,
  ) {}

  /** Floating credits not lent. */
  get floatingAvailable(): number {
    return this.pool;
  }

  /** Lends floating credits to `ch` up to its producer's backlog; remembers it if the pool runs dry. */
  lend(ch: InputChannel): void {
    const want = ch.wants();
    if (want <= 0) {
      this.hungry.delete(ch);
      return;
    }
    const k = Math.min(want, this.pool);
    if (k > 0) {
      this.pool -= k;
      ch.grant(k);
    }
    if (want > k) this.hungry.add(ch);
    else this.hungry.delete(ch);
  }

  /** A channel returns `n` floating credits; channels waiting for some get them first. */
  giveBack(n: number): void {
    this.pool += n;
    for (const ch of this.hungry) {
      if (this.pool === 0) break;
      this.lend(ch);
    }
  }
}
