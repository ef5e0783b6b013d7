/** The profile reducer of `npm run profile` (test/profile): stage attribution and the time window. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { reduceProfile, type CpuProfile } from "../profile/cpuprofile.js";
import { frameStage } from "../profile/stages.js";

const url = (path: string) => `file:///repo/dist/${path}`;

/** root → task loop → encodeDataFrame → msgpackr pack; root → keyed-sum; root → (idle); root → GC. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: "(root)", url: "" }, children: [2, 5, 6, 7] },
    { id: 2, callFrame: { functionName: "run", url: url("actors/task/task.js") }, children: [3] },
    { id: 3, callFrame: { functionName: "encodeDataFrame", url: url("src/network/frame.js") }, children: [4] },
    { id: 4, callFrame: { functionName: "pack", url: "file:///repo/node_modules/msgpackr/pack.js" } },
    { id: 5, callFrame: { functionName: "(anonymous)", url: url("src/runtime/invokables/keyed-sum.js") } },
    { id: 6, callFrame: { functionName: "(idle)", url: "" } },
    { id: 7, callFrame: { functionName: "(garbage collector)", url: "" } },
  ],
  startTime: 1_000,
  endTime: 2_000,
  // Samples at t = 1000 + 100 * k, each standing for the 100 µs up to the next.
  samples: [4, 4, 5, 6, 7, 4, 2, 5, 5, 5, 5],
  timeDeltas: [0, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100],
};

test("self time goes to the stage of the nearest frame that has one (msgpackr under encodeDataFrame is serialization)", () => {
  const r = reduceProfile(profile, undefined, "thread");
  assert.equal(r.byStage.get("serialization"), 300);
  assert.equal(r.byStage.get("keyed state / keyed operator"), 400, "the last sample has no interval after it");
  assert.equal(r.byStage.get("operator chain & task loop"), 100);
  assert.equal(r.byStage.get("GC"), 100);
  assert.equal(r.idleUs, 100);
  assert.equal(r.busyUs, 900);
  assert.equal(r.tree.totalUs, 900);
  assert.equal(r.tree.children.get("run actors/task/task.js")?.totalUs, 400);
});

test("only samples inside the window count", () => {
  const r = reduceProfile(profile, { fromUs: 1_000, toUs: 1_250 }, "thread");
  assert.equal(r.byStage.get("serialization"), 200);
  assert.equal(r.byStage.get("keyed state / keyed operator"), 100);
  assert.equal(r.busyUs, 300);
  assert.equal(r.idleUs, 0);
});

test("the tuple block's encoding functions count as serialization, its decoding ones as deserialization", () => {
  const stage = (functionName: string) => frameStage({ functionName, url: url("src/network/tuple-block.js") });
  for (const f of ["encodeTupleBlock", "scanStrings", "scanNumbers", "writeColumn", "frameBytes", "ensureRows", "grownBytes"])
    assert.equal(stage(f), "serialization", f);
  for (const f of ["decodeTupleBlock", "field", "checkStrings", "malformed"]) assert.equal(stage(f), "deserialization", f);
});
