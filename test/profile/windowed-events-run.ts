/**
 * Child of `npm run profile -- windowed-events` (started with `--cpu-prof`): runs
 * examples/windowed-events.ts through the runtime in this thread, as the stream bench does: three
 * unprofiled warm-up runs (the runtime's code reaches its optimized form only from its third run on),
 * then the measured one. Prints the measured run's window on the profile clock as one JSON line
 * `{fromUs, toUs, events}`; with `alloc`, also the bytes the measured run allocated (V8's sampling heap
 * profiler, counting objects collected since) and the sites that allocated most, as `allocBytes` and `allocTop`.
 * Usage: `node --cpu-prof dist/test/profile/windowed-events-run.js EVENTS OUTPUT_DIR [alloc]`.
 */
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { connectNats } from "../../src/rpc/nats.js";
import windowedEvents from "../../examples/windowed-events.js";
import { runLocally } from "../helpers/local-runtime.js";
import { startTestNats } from "../helpers/nats-server.js";
import { monotonicUs } from "./cpuprofile.js";

const WARMUP_RUNS = 3;

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

const frameName = (n: SamplingNode): string => {
  const f = n.callFrame;
  const file = f.url.replace(/^.*\/dist\//, "").replace(/^file:\/\//, "");
  return file ? `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}` : f.functionName;
};

/**
 * Bytes allocated per site (function, file and line), summed over the sampling profile's tree; a
 * builtin (Array.prototype.push growing an array, Map.prototype.set) is named with its caller.
 */
function allocationSites(root: SamplingNode): { total: number; top: Array<[string, number]> } {
  const sites = new Map<string, number>();
  let total = 0;
  const walk = (n: SamplingNode, parent: SamplingNode | null) => {
    if (n.selfSize > 0) {
      const k = n.callFrame.url || parent === null ? frameName(n) : `${frameName(n)} in ${frameName(parent)}`;
      sites.set(k, (sites.get(k) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c, n);
  };
  walk(root, null);
  return { total, top: [...sites].sort((a, b) => b[1] - a[1]).slice(0, 25) };
}

const events = Number(process.argv[2] ?? 500_000);
const output = process.argv[3];
const alloc = process.argv[4] === "alloc";
if (!output || !(events > 0)) throw new Error("usage: windowed-events-run.js EVENTS OUTPUT_DIR [alloc]");
const nats = await startTestNats();
const nc = await connectNats(nats.url, "profile-windowed-events");
try {
  const run = async (dir: string) => runLocally(await windowedEvents(["--events", String(events), "--output", dir], { parallelism: 1 }), { nc }, 600_000);
  for (let i = 0; i < WARMUP_RUNS; i++) await run(join(output, `warmup-${i}`));
  const session = alloc ? new Session() : null;
  if (session) {
    session.connect();
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  const fromUs = monotonicUs();
  await run(output);
  const toUs = monotonicUs();
  const extra: Record<string, unknown> = {};
  if (session) {
    const { profile } = (await session.post("HeapProfiler.stopSampling")) as unknown as { profile: { head: SamplingNode } };
    const sites = allocationSites(profile.head);
    extra.allocBytes = sites.total;
    extra.allocTop = sites.top;
    session.disconnect();
  }
  console.log(JSON.stringify({ fromUs, toUs, events, ...extra }));
} finally {
  await nc.close();
  await nats.stop();
}
