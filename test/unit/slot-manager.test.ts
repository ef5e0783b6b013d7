import { test } from "node:test";
import assert from "node:assert/strict";
import { SlotManager } from "../../actors/resourcemanager/slot-manager.js";
import { newId } from "../../src/core/ids.js";

const te = (id: string, n: number) => ({ id, pid: 1, host: "h", slots: Array.from({ length: n }, (_, index) => ({ index })) });

test("requirements are met from free slots, spread over TaskExecutors", () => {
  const sm = new SlotManager();
  sm.register(te("a", 2));
  sm.register(te("b", 2));
  const job = newId();
  sm.declare(job, "tok", 3);
  const reqs = sm.allocate();
  assert.equal(reqs.length, 3);
  assert.deepEqual(new Set(reqs.map((r) => r.taskExecutorId)), new Set(["a", "b"]));
  assert.ok(reqs.every((r) => r.request.jobId === job && r.request.jobMasterToken === "tok"));
  assert.equal(sm.allocate().length, 0, "nothing more to do");
  assert.equal(
    sm.info().reduce((n, t) => n + t.freeSlots, 0),
    1,
  );
});

test("an unmet requirement waits for new slots; a lost TaskExecutor names the jobs it held", () => {
  const sm = new SlotManager();
  sm.register(te("a", 1));
  const job = newId();
  sm.declare(job, "tok", 2);
  assert.equal(sm.allocate().length, 1);
  sm.register(te("b", 1));
  assert.equal(sm.allocate().length, 1);
  assert.deepEqual(sm.unregister("a"), [job]);
  assert.equal(sm.allocate().length, 0, "no free slot left to replace it");
});

test("pending allocations survive a heartbeat that does not know them yet; freed slots are reused", () => {
  const sm = new SlotManager();
  sm.register(te("a", 1));
  const job = newId();
  sm.declare(job, "tok", 1);
  const [r] = sm.allocate();
  sm.report("a", [{ index: 0 }]);
  assert.equal(sm.allocatedTo(job), 1);
  sm.report("a", [{ index: 0, allocationId: r!.request.allocationId, jobId: job }]);
  sm.freeSlot("a", r!.request.allocationId);
  sm.declare(job, "tok", 0);
  assert.equal(sm.info()[0]!.freeSlots, 1);
});
