import { test } from "node:test";
import assert from "node:assert/strict";
import { awaitJobEnds, type EndLimits } from "../soak/end-watch.js";
import { eventsFor } from "../soak/jobs.js";

const SIZE = { events: 100, keys: 7, rate: 200, intervalMs: 300 };

/** A job whose committed output follows `counts` (one value per poll, the last one repeated) and that ends when `endsAfter` polls were made. */
function scripted(counts: number[], endsAfter = Infinity) {
  const watch: { endedAt: number | undefined } = { endedAt: undefined };
  let polls = 0;
  const job = {
    size: SIZE,
    committedCount: async () => {
      polls++;
      if (polls >= endsAfter) watch.endedAt = Date.now();
      return counts[Math.min(polls, counts.length) - 1]!;
    },
  };
  return { job, watch };
}

/** Limits under which only the verdict under test can be reached, whatever the machine's speed. */
const only = (l: Partial<EndLimits>): EndLimits => ({ endAfterOutputMs: 60_000, stallMs: 60_000, pollMs: 20, ...l });

test("a job still committing is waited for; one that ends is not judged", async () => {
  const growing = scripted(
    Array.from({ length: 20 }, (_, i) => (i + 1) * 5),
    21,
  );
  const [end] = await awaitJobEnds([growing], 60_000, only({}));
  assert.equal(end!.verdict, undefined);
  assert.equal(end!.committed, 100);
  assert.ok(growing.watch.endedAt);
});

test("a job whose output is complete but that does not end is hung at its end of input", async () => {
  const [end] = await awaitJobEnds([scripted([50, 100])], 60_000, only({ endAfterOutputMs: 300 }));
  assert.match(end!.verdict ?? "", /committed output was complete \(100 lines\) at .* but it had not ended 0\.3 s later/);
});

test("a job whose output stops growing before it is complete is stalled", async () => {
  const [end] = await awaitJobEnds([scripted([10, 20, 30])], 60_000, only({ stallMs: 300 }));
  assert.match(end!.verdict ?? "", /stopped growing at 30 of 100 events/);
});

test("the bound ends a wait for a job that keeps committing", async () => {
  const [end] = await awaitJobEnds([scripted(Array.from({ length: 99 }, (_, i) => i + 1))], 600, only({}));
  assert.match(end!.verdict ?? "", /still committing at the bound of 1 s after the last fault/);
});

test("the events of a job are sized by its slowest source subtask: the one with the most keys, at its share of the rate", () => {
  // 7 keys over 2 subtasks: 4 and 3. The one with 4 emits 100 events/s for 60 s: 6000, 4/7 of the job.
  assert.equal(eventsFor(200, 60_000, 7), 10_500);
  assert.equal(eventsFor(200, 60_000, 8), 12_000);
});
