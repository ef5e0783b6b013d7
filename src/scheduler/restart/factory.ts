import type { RestartStrategyConfig } from "../../jobgraph/types.js";
import { ExponentialDelayRestartStrategy } from "./exponential-delay.js";
import { FailureRateRestartStrategy } from "./failure-rate.js";
import { FixedDelayRestartStrategy } from "./fixed-delay.js";
import { NoRestartStrategy } from "./no-restart.js";
import type { RestartBackoffTimeStrategy } from "./restart-backoff-time-strategy.js";

/**
 * The strategy a job's config names (Flink's RestartBackoffTimeStrategyFactoryLoader). Without
 * one: `none`, as Flink when checkpointing is off; `exponential-delay` when checkpointing is on.
 */
export function createRestartStrategy(config: RestartStrategyConfig | undefined, checkpointing = false): RestartBackoffTimeStrategy {
  const c: RestartStrategyConfig = config ?? { type: checkpointing ? "exponential-delay" : "none" };
  switch (c.type) {
    case "none":
      return new NoRestartStrategy();
    case "fixed-delay": {
      const { type: _t, ...o } = c;
      return new FixedDelayRestartStrategy(o);
    }
    case "failure-rate": {
      const { type: _t, ...o } = c;
      return new FailureRateRestartStrategy(o);
    }
    case "exponential-delay": {
      const { type: _t, ...o } = c;
      return new ExponentialDelayRestartStrategy(o);
    }
  }
}
