/**
 * The stages of the data path a profile's CPU time is attributed to, by the source file (and for the
 * frame codec, the function) of the nearest frame on the stack that belongs to one. Frames of no
 * stage (msgpackr, V8 builtins, Node internals) count for the stage of their nearest caller that has one.
 */

/** Stages, in the order the table lists them. */
export const STAGES = [
  "source",
  "tokenize",
  "partition (keyBy hash, key groups)",
  "record writer / buffers",
  "serialization",
  "MessagePort hand-off",
  "NATS send/receive (+ socket I/O)",
  "deserialization",
  "input gate (channels, union, alignment)",
  "keyed state / keyed operator",
  "windows & timers",
  "user functions",
  "operator chain & task loop",
  "sink",
  "control plane (RPC, metrics, checkpoints)",
  "GC",
  "other (V8, Node, unattributed)",
] as const;
export type Stage = (typeof STAGES)[number];

/** A frame of a .cpuprofile node. */
export interface CallFrame {
  functionName: string;
  url: string;
}

/** The tuple block's functions that encode (the others decode). */
const TUPLE_BLOCK_ENCODING = /^(encode|write|scan|copy)|^(frameBytes|ensureRows|grownBytes)$/;

/** The file part of a frame's URL inside the repository (`src/network/frame.js`), or the URL itself. */
function repoPath(url: string): string {
  const i = url.indexOf("/dist/");
  return i >= 0 ? url.slice(i + 6) : url;
}

/** Stage of one frame by its own file, or null when it has none (then its caller's counts). */
export function frameStage(f: CallFrame): Stage | null {
  const name = f.functionName;
  if (f.url === "") {
    if (name === "(garbage collector)") return "GC";
    if (name === "(program)" || name === "(root)") return "other (V8, Node, unattributed)";
    return null;
  }
  const p = repoPath(f.url);
  if (p.includes("node_modules/@nats-io/") || p.startsWith("node:net") || p.includes("stream_base_commons") || p.startsWith("src/rpc/stream-delivery"))
    return "NATS send/receive (+ socket I/O)";
  if (p.startsWith("node:internal/per_context/messageport") || p.startsWith("node:internal/worker/io")) return "MessagePort hand-off";
  if (p.startsWith("node:")) return null;
  // A job's shipped code, as a TaskExecutor's bundle cache stores it (src/blob/bundle-cache.ts).
  if (p.includes("/eddy-bundles-")) return "user functions";
  if (p.includes("node_modules/")) return null;
  if (p.startsWith("src/network/")) {
    const file = p.slice("src/network/".length).replace(/\.js$/, "");
    switch (file) {
      case "frame":
        if (name.startsWith("encode") || name === "writeHeader") return "serialization";
        if (name.startsWith("decode")) return "deserialization";
        return null;
      case "tuple-block":
        if (TUPLE_BLOCK_ENCODING.test(name)) return "serialization";
        return "deserialization";
      case "partitioner":
        return "partition (keyBy hash, key groups)";
      case "record-writer":
      case "subpartition":
        return "record writer / buffers";
      case "port-link":
      case "local-exchange":
        return "MessagePort hand-off";
      case "remote":
        return "NATS send/receive (+ socket I/O)";
      case "blocking-producer":
      case "blocking-input":
      case "blocking-store":
        return "NATS send/receive (+ socket I/O)";
      default:
        return "input gate (channels, union, alignment)";
    }
  }
  // The checkpoint-aware wrapper of a task's input is on the per-buffer path (V8 inlines the channel's recycle into it).
  if (p.startsWith("src/checkpoint/task/barrier-aware-input")) return "input gate (channels, union, alignment)";
  if (p.startsWith("src/state/key-groups")) return "partition (keyBy hash, key groups)";
  if (p.startsWith("src/state/")) return "keyed state / keyed operator";
  const inv = "src/runtime/invokables/";
  if (p.startsWith(inv)) {
    const file = p.slice(inv.length).replace(/\.js$/, "");
    if (file === "text-file-source" || file === "sequence" || file === "stream/sources") return "source";
    if (file === "tokenize") return "tokenize";
    if (file === "keyed-sum" || file === "count-per-key" || file === "keyed-events" || file === "stream/keyed") return "keyed state / keyed operator";
    if (file === "text-file-sink" || file === "discard" || file === "stream/sinks") return "sink";
    if (file === "stream/window-operator" || file === "stream/event-time-operator") return "windows & timers";
    return "operator chain & task loop";
  }
  if (p.startsWith("src/runtime/streaming/windows") || p.startsWith("src/runtime/streaming/timer-service")) return "windows & timers";
  if (p.startsWith("src/runtime/") || p.startsWith("src/sdk/") || p.startsWith("actors/task/")) return "operator chain & task loop";
  // Helpers (errors, time, stream events) count for whoever calls them.
  if (p.startsWith("src/core/")) return null;
  if (p.startsWith("examples/") || p.startsWith("src/usercode/")) return "user functions";
  if (p.startsWith("src/") || p.startsWith("actors/") || p.startsWith("test/")) return "control plane (RPC, metrics, checkpoints)";
  return null;
}
