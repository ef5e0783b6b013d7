/**
 * The sinks of the stream API: `eddy.stream.print` (stdout), `eddy.stream.collect` (one file written
 * at the end of input, lines optionally sorted: deterministic output for bounded jobs) and
 * `eddy.stream.sink` (a SinkFunction written in user code, with checkpoint hooks).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Invokable, TaskContext } from "../../api.js";
import type { ListState } from "../../../state/api.js";
import { configError, formatLine, recordCounters, stringSetting } from "../../invokable-common.js";
import type { SinkFunction } from "../../streaming/functions.js";
import { forEachElement, gateReaders, inputsSetting, refSetting, runtimeInfo, userFunction, type InputSpec } from "../../streaming/stream-operator.js";
import { defineStreamInvokable } from "./define.js";

interface PrintSettings {
  prefix?: string;
  format?: string;
  inputs: InputSpec[];
}

function formatter(ctx: TaskContext, ref: string | undefined): (v: unknown) => string {
  if (!ref) return (v) => (typeof v === "object" && v !== null && !Array.isArray(v) ? JSON.stringify(v) : formatLine(v));
  const fn = userFunction<(v: unknown) => string>(ctx, ref);
  return (v) => String(fn(v));
}

/** `eddy.stream.print` {prefix?, format?}: one line per record on stdout (`prefix> line` with a prefix). */
export const printSink = defineStreamInvokable<PrintSettings>({
  name: "eddy.stream.print",
  description:
    "Stream API print: writes each record as a line to stdout (objects as JSON, arrays joined by spaces, or format(record)). Config {prefix?, format?: ref, inputs?}.",
  kind: "sink",
  keys: ["prefix", "format", "inputs"],
  settings: (config, vertexId) => {
    const s: PrintSettings = { inputs: inputsSetting(config, "eddy.stream.print", vertexId) };
    if (config.prefix !== undefined) s.prefix = stringSetting(config, "prefix", "eddy.stream.print", vertexId);
    const f = refSetting(config, "format", "eddy.stream.print", vertexId, false);
    if (f !== undefined) s.format = f;
    return s;
  },
  create: (s, ctx) => ({
    async invoke(c) {
      const fmt = formatter(ctx, s.format);
      const readers = gateReaders(c, s.inputs, c.tdd.inputs.length);
      const counters = recordCounters(c);
      const pre = s.prefix !== undefined ? `${s.prefix}> ` : "";
      await forEachElement(c, {
        batch(records, gate, from, to) {
          const r = readers[gate] ?? readers[0]!;
          counters.in.add(to - from);
          let text = "";
          for (let i = from; i < to; i++) text += `${pre}${fmt(r.value(records[i]))}\n`;
          process.stdout.write(text);
        },
        watermark() {},
      });
    },
  }),
});

interface CollectSettings {
  path: string;
  format?: string;
  sorted: boolean;
  inputs: InputSpec[];
}

/** Buffers the lines (kept in operator state at checkpoints) and writes the file at the end of input. */
class CollectSink implements Invokable {
  private lines: string[] = [];
  private state: ListState<string> | undefined;
  constructor(private readonly s: CollectSettings) {}

  async restore(ctx: TaskContext): Promise<void> {
    this.state = ctx.operatorState.getListState<string>("lines");
    this.lines = [...this.state.get()];
  }

  snapshotState(): void {
    this.state!.update(this.lines);
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.state) await this.restore(ctx);
    const fmt = formatter(ctx, this.s.format);
    const readers = gateReaders(ctx, this.s.inputs, ctx.tdd.inputs.length);
    const counters = recordCounters(ctx);
    const lines = this.lines;
    await forEachElement(ctx, {
      batch(records, gate, from, to) {
        const r = readers[gate] ?? readers[0]!;
        counters.in.add(to - from);
        for (let i = from; i < to; i++) lines.push(fmt(r.value(records[i])));
      },
      watermark() {},
    });
    ctx.signal.throwIfAborted();
    const all = this.s.sorted ? [...lines].sort() : lines;
    const path = ctx.tdd.parallelism === 1 ? this.s.path : `${this.s.path}.${ctx.tdd.subtaskIndex}`;
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${ctx.tdd.attemptNumber}.inprogress`;
    writeFileSync(tmp, all.length ? `${all.join("\n")}\n` : "");
    renameSync(tmp, path);
  }
}

/** `eddy.stream.collect` {path, sorted?, format?}: every record as a line of one file, written when the input ends. */
export const collectSink = defineStreamInvokable<CollectSettings>({
  name: "eddy.stream.collect",
  description:
    "Stream API collect-to-file: buffers the records' lines (checkpointed) and writes them to the file `path` at the end of input, sorted when `sorted` (subtask i of a parallel sink writes path.i). Config {path, sorted?, format?: ref, inputs?}.",
  kind: "sink",
  keys: ["path", "sorted", "format", "inputs"],
  settings: (config, vertexId) => {
    const name = "eddy.stream.collect";
    if (config.sorted !== undefined && typeof config.sorted !== "boolean") configError(name, vertexId, "config.sorted must be a boolean");
    const s: CollectSettings = {
      path: stringSetting(config, "path", name, vertexId),
      sorted: config.sorted === true,
      inputs: inputsSetting(config, name, vertexId),
    };
    const f = refSetting(config, "format", name, vertexId, false);
    if (f !== undefined) s.format = f;
    return s;
  },
  create: (s) => new CollectSink(s),
});

/** Runs a user SinkFunction; what it snapshots is kept in even-split operator state. */
class UserSink implements Invokable {
  private readonly sink: SinkFunction<unknown>;
  private state: ListState<unknown> | undefined;
  /** Present when the sink commits on checkpoints (then the task finishes after a final checkpoint). */
  notifyCheckpointComplete?: (ctx: TaskContext, checkpointId: number) => Promise<void> | void;
  constructor(
    private readonly s: { fn: string; inputs: InputSpec[] },
    ctx: TaskContext,
  ) {
    const factory = userFunction<() => SinkFunction<unknown>>(ctx, s.fn);
    const sink = (this.sink = factory());
    if (typeof sink?.invoke !== "function") throw new TypeError(`vertex "${ctx.tdd.vertexId}": the sink factory must return an object with invoke(value)`);
    if (sink.notifyCheckpointComplete) this.notifyCheckpointComplete = (_c, id) => sink.notifyCheckpointComplete!(id);
  }

  async restore(ctx: TaskContext): Promise<void> {
    this.state = ctx.operatorState.getListState<unknown>("sink");
    const restored = this.state.get();
    await this.sink.open?.(runtimeInfo(ctx), restored.length > 0 || ctx.tdd.restore ? [...restored] : undefined);
  }

  snapshotState(_ctx: TaskContext, checkpointId: number): void {
    if (this.sink.snapshotState) this.state!.update(this.sink.snapshotState(checkpointId));
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.state) await this.restore(ctx);
    const readers = gateReaders(ctx, this.s.inputs, ctx.tdd.inputs.length);
    const counters = recordCounters(ctx);
    const sink = this.sink;
    await forEachElement(ctx, {
      batch(records, gate, from, to) {
        const r = readers[gate] ?? readers[0]!;
        counters.in.add(to - from);
        for (let i = from; i < to; i++) sink.invoke(r.value(records[i]));
      },
      watermark() {},
    });
    ctx.signal.throwIfAborted();
    await sink.finish?.();
  }
}

/** `eddy.stream.sink` {fn}: a SinkFunction from the job's code (fn: a factory, called per subtask). */
export const userSink = defineStreamInvokable<{ fn: string; inputs: InputSpec[] }>({
  name: "eddy.stream.sink",
  description:
    "Stream API custom sink: a SinkFunction factory from the job's code; invoke(value) per record, snapshotState/notifyCheckpointComplete/finish hooks. Config {fn: ref, inputs?}.",
  kind: "sink",
  keys: ["fn", "inputs"],
  settings: (config, vertexId) => ({
    fn: refSetting(config, "fn", "eddy.stream.sink", vertexId)!,
    inputs: inputsSetting(config, "eddy.stream.sink", vertexId),
  }),
  create: (s, ctx) => new UserSink(s, ctx),
});
