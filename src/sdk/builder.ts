/**
 * The earlier name of the stream API's entry point: `JobBuilder` is {@link StreamExecutionEnvironment}.
 * Kept so job files written against it still build.
 */
export { StreamExecutionEnvironment as JobBuilder } from "./stream-execution-environment.js";
export { DataStream, KeyedStream, type FieldOf } from "./data-stream.js";
export { DataStreamSink } from "./data-stream-sink.js";
export type { JobOptions } from "./stream-graph.js";
