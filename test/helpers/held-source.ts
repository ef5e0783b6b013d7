/**
 * A list source that stops where a test says until released, and a checkpoint taken while every such
 * source stands at its stop: a checkpoint whose barrier follows exactly the records before the stops,
 * by construction rather than by timing.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { deferred, withTimeout } from "../../src/core/time.js";
import type { CompletedCheckpoint } from "../../src/checkpoint/types.js";
import type { JobGraphSpec } from "../../src/jobgraph/index.js";
import type { SourceFunction } from "../../src/sdk/index.js";
import { LocalExecution, type MemoryStorage } from "./local-runtime.js";

/** Where a {@link listSource} stops until released. */
export interface Hold {
  at: number;
  reached(): void;
  isReleased(): boolean;
}

/**
 * A SourceFunction over `items` whose position is checkpointed. With `hold`, it stops at index
 * `hold.at`, says so, and goes on once released; until then each run() returns at once without
 * emitting, so the task reaches its yield point, where a checkpoint is taken.
 */
export function listSource<T>(items: readonly T[], hold?: Hold): () => SourceFunction<T> {
  return () => {
    let next = 0;
    return {
      open(_info, restored) {
        if (restored?.length) next = restored[0] as number;
      },
      run(ctx) {
        const held = hold !== undefined && !hold.isReleased();
        const stop = held ? hold.at : items.length;
        if (next < stop) {
          const to = Math.min(stop, next + 50);
          while (next < to) ctx.collect(items[next++]!);
          return true;
        }
        if (held) hold.reached();
        return held;
      },
      snapshotState: () => [next],
    };
  };
}

/**
 * Starts the job `build` makes with one hold per entry of `at` (source i stops at `at[i]`), takes
 * checkpoint 1 once every source stands at its stop, and cancels the run. With `from`, the run is
 * restored from that checkpoint first.
 */
export async function checkpointWhenHeld(
  nc: NatsConnection,
  build: (holds: Hold[]) => JobGraphSpec,
  at: readonly number[],
  from?: { cp: CompletedCheckpoint; storage: MemoryStorage },
): Promise<{ cp: CompletedCheckpoint; storage: MemoryStorage }> {
  const reached = at.map(() => deferred<void>());
  let released = false;
  const spec = build(at.map((n, i) => ({ at: n, reached: () => reached[i]!.resolve(), isReleased: () => released })));
  const run = LocalExecution.start(spec, from ? { nc, restoreFrom: from.cp, storage: from.storage } : { nc });
  try {
    await withTimeout(Promise.all(reached.map((d) => d.promise)), 30_000, "every source at its hold");
    const cp = await run.checkpoint(1);
    return { cp, storage: run.storage };
  } finally {
    released = true;
    await run.cancel();
  }
}
