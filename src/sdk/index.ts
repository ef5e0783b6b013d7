/**
 * The job SDK (Flink's DataStream API): what a job file imports. A job file's default export is a
 * {@link JobMain}; its stream API is in StreamExecutionEnvironment, DataStream, KeyedStream,
 * ConnectedStreams, WindowedStream, AllWindowedStream, JoinedStreams, CoGroupedStreams and IntervalJoin:
 *
 * ```ts
 * import { JobBuilder, requireJobArg, type JobMain } from "../src/sdk/index.js";
 * const main: JobMain = (args, ctx) => {
 *   const env = new JobBuilder("WordCount", { parallelism: ctx.parallelism });
 *   env.readTextFile(requireJobArg(args, "--input")).tokenize().keyBy(0).sum(1).writeAsText(requireJobArg(args, "--output"));
 *   return env.build();
 * };
 * export default main;
 * ```
 *
 * The loader used by `eddy run` lives in `./load-job.js` (kept out of this module so job bundles stay small).
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { JobGraphSpec } from "../jobgraph/types.js";

export { DataStream, KeyedStream, ConnectedStreams, type FieldOf, type SumOptions } from "./data-stream.js";
export { DataStreamSink } from "./data-stream-sink.js";
export {
  StreamExecutionEnvironment,
  StreamExecutionEnvironment as JobBuilder,
  DEFAULT_GENERATOR_SPLITS,
  type GeneratorOptions,
  type JetStreamSourceOptions,
} from "./stream-execution-environment.js";
export { WindowedStream, TumblingEventTimeWindows, SlidingEventTimeWindows, EventTimeSessionWindows } from "./windowed-stream.js";
export { AllWindowedStream } from "./all-windowed-stream.js";
export { type CoGroupedStreams, CoGroupedWindow, TwoStreams, Where, EqualTo } from "./co-grouped-streams.js";
export { type JoinedStreams, JoinedWindow } from "./joined-streams.js";
export { IntervalJoin, IntervalJoined } from "./interval-join.js";
export { WatermarkStrategy, Time } from "./watermark-strategy.js";
export type { JobOptions } from "./stream-graph.js";
export { OutputTag } from "../runtime/streaming/functions.js";
export type {
  AggregateFunction,
  AllWindowFunction,
  CoGroupFunction,
  Collector,
  CoProcessFunction,
  FilterFunction,
  FlatJoinFunction,
  FlatMapFunction,
  JoinFunction,
  KeyedProcessContext,
  KeyedProcessFunction,
  KeySelector,
  KeyedStateStore,
  KeyType,
  MapFunction,
  OnTimerContext,
  ProcessContext,
  ProcessFunction,
  ProcessJoinContext,
  ProcessJoinFunction,
  ReduceFunction,
  RuntimeInfo,
  SinkFunction,
  SourceContext,
  SourceFunction,
  TimerService,
  TimestampAssigner,
  TimeWindow,
  WindowFunction,
} from "../runtime/streaming/functions.js";
export type { WindowAssignerSpec } from "../runtime/streaming/windows.js";
export type { ValueState, ListState, MapState, ReducingState, AggregatingState, KeyedStateBackend, OperatorStateBackend } from "../state/api.js";
export type { Invokable, TaskContext, RecordInput, RecordOutput, InputBatch, StreamElement } from "../runtime/api.js";
export { USER_FUNCTIONS, MAX_WATERMARK, isWatermarkEvent } from "../runtime/api.js";
export type { JobGraphSpec, JobVertexSpec, JobEdgeSpec, PartitionerType } from "../jobgraph/types.js";

/** What `eddy run` tells the job function besides its arguments. */
export interface JobContext {
  /** `eddy run --parallelism N` (else `-D parallelism.default=N`), when given. */
  parallelism?: number;
}

/** The default export of a job file. */
export type JobMain = (args: string[], ctx: JobContext) => JobGraphSpec | Promise<JobGraphSpec>;

/** The value of `--flag VALUE` or `--flag=VALUE` in `args` (the last one wins), or undefined. */
export function jobArg(args: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === flag && i + 1 < args.length) value = args[++i];
    else if (a.startsWith(`${flag}=`)) value = a.slice(flag.length + 1);
  }
  return value;
}

/** Like {@link jobArg} but required: throws ValidationError MalformedRequest naming the flag (and `usage`). */
export function requireJobArg(args: readonly string[], flag: string, usage?: string): string {
  const v = jobArg(args, flag);
  if (v === undefined || v === "") {
    throw new ValidationError(ErrorCode.MalformedRequest, `missing job argument ${flag} <value>${usage ? `; usage: ${usage}` : ""}`);
  }
  return v;
}
