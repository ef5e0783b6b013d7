/**
 * State micro-benchmark helpers: build a keyed state of a given snapshot size, time its snapshot and
 * restore. `makeKeyedStateBytes` feeds the checkpoint benchmark with realistic snapshot bytes.
 * Run alone: `node dist/test/bench/state-bench.js [MB...]` (default 1 and 100).
 */
import { fileURLToPath } from "node:url";
import { packData } from "../../src/codec/codec.js";
import { HeapKeyedStateBackend } from "../../src/state/heap-keyed-state-backend.js";

const MAX_PARALLELISM = 128;
const PAYLOAD = "x".repeat(64);

/** One key's value: a small record, about 100 bytes as msgpack together with its key. */
function valueAt(i: number): { count: number; sum: number; tag: string } {
  return { count: i, sum: i * 1.5, tag: PAYLOAD };
}

/** A full-range backend (max parallelism 128) whose snapshot is about `targetBytes` long. */
export function makeKeyedState(targetBytes: number): HeapKeyedStateBackend {
  const backend = new HeapKeyedStateBackend({ maxParallelism: MAX_PARALLELISM, keyGroupRange: { start: 0, end: MAX_PARALLELISM - 1 } });
  const perEntry = packData(["key-1000000", valueAt(1_000_000)]).length - 1;
  const overhead = 28 + 64 + 4 * (MAX_PARALLELISM + 1);
  const n = Math.max(1, Math.round((targetBytes - overhead) / perEntry));
  const state = backend.getValueState<ReturnType<typeof valueAt>>("bench");
  for (let i = 0; i < n; i++) {
    backend.setCurrentKey(`key-${i}`);
    state.update(valueAt(i));
  }
  return backend;
}

/** A keyed-state snapshot (canonical format) of roughly `targetBytes` bytes. */
export async function makeKeyedStateBytes(targetBytes: number): Promise<Uint8Array> {
  return makeKeyedState(targetBytes).snapshot();
}

/** Times filling, snapshotting, a full restore and a one-key-group restore of a state of about `targetBytes`. */
export function measureKeyedState(targetBytes: number): {
  bytes: number;
  keys: number;
  fillMs: number;
  snapshotMs: number;
  restoreMs: number;
  restoreOneGroupMs: number;
} {
  let t = performance.now();
  const backend = makeKeyedState(targetBytes);
  const fillMs = performance.now() - t;
  t = performance.now();
  const bytes = backend.snapshot();
  const snapshotMs = performance.now() - t;
  const keys = backend.numKeys();
  t = performance.now();
  const full = new HeapKeyedStateBackend({ maxParallelism: MAX_PARALLELISM, keyGroupRange: { start: 0, end: MAX_PARALLELISM - 1 } });
  full.restore([bytes]);
  const restoreMs = performance.now() - t;
  if (full.numKeys() !== keys) throw new Error(`restore lost keys: ${full.numKeys()} of ${keys}`);
  t = performance.now();
  new HeapKeyedStateBackend({ maxParallelism: MAX_PARALLELISM, keyGroupRange: { start: 7, end: 7 } }).restore([bytes]);
  const restoreOneGroupMs = performance.now() - t;
  return { bytes: bytes.length, keys, fillMs, snapshotMs, restoreMs, restoreOneGroupMs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = process.argv.slice(2).map(Number);
  for (const mb of sizes.length ? sizes : [1, 100]) {
    const r = measureKeyedState(mb * 1024 * 1024);
    const mbps = (ms: number) => (r.bytes / 1048576 / (ms / 1000)).toFixed(0);
    console.log(
      `${(r.bytes / 1048576).toFixed(1)} MB, ${r.keys} keys: fill ${r.fillMs.toFixed(0)} ms, snapshot ${r.snapshotMs.toFixed(0)} ms (${mbps(r.snapshotMs)} MB/s), ` +
        `restore ${r.restoreMs.toFixed(0)} ms (${mbps(r.restoreMs)} MB/s), restore of 1 key group of 128 ${r.restoreOneGroupMs.toFixed(1)} ms`,
    );
  }
}
