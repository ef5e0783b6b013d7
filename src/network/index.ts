/**
 * Eddy's data exchange (Flink's network stack): result partitions with credit-based flow control,
 * input gates, and three links (same thread, other thread over MessagePorts, other TaskExecutor over NATS);
 * BLOCKING partitions are kept in JetStream (one stream per job) and read from there. PIPELINED links
 * carry checkpoint barriers in-band; the union input aligns them (alignment.ts, barriers.ts).
 */
export { DEFAULT_BUFFER_RECORDS, DEFAULT_BUFFER_TIMEOUT_MS, DEFAULT_NETWORK_CONFIG, networkConfig, type NetworkConfig } from "./config.js";
export { NetworkEnvironment, type InputOptions, type LinkKind, type NetworkEnvironmentOptions } from "./environment.js";
export { blockingStreamConfig, ensureBlockingStream, releaseBlockingPartitions, sweepBlockingStreams } from "./blocking-store.js";
export { BlockingPublisher, PRODUCED_BYTES_ACCUMULATOR, type BlockingPublisherStats } from "./blocking-producer.js";
export { BlockingInputChannel } from "./blocking-input.js";
export { connectWorkerToBroker, LocalExchangeBroker, LocalExchangeClient, type PendingConnect } from "./local-exchange.js";
export { RecordWriterOutput, ResultPartition, type OutputOptions, type OutputStats } from "./record-writer.js";
export { ResultSubpartition, type SubpartitionReader } from "./subpartition.js";
export { InputChannel, type ChannelOwner } from "./input-channel.js";
export { InputGate } from "./input-gate.js";
export { IoTimer } from "./io-timer.js";
export { UnionInput, type InputStats } from "./union-input.js";
export { BarrierAligner, type AlignmentStats } from "./alignment.js";
export { barrierForwardingInput, type BarrierHandler, type EventSource } from "./barriers.js";
export { BarrierError, checkBarrier, type BarrierMarker, type CancelMarker, type NetworkEvent } from "../core/stream-events.js";
export {
  BROADCAST,
  BroadcastPartitioner,
  createPartitioner,
  ForwardPartitioner,
  HashPartitioner,
  RoundRobinPartitioner,
  type KeySelector,
  type Partitioner,
  type PartitionerSpec,
} from "./partitioner.js";
export { ControlKind, FRAME_HEADER_BYTES, FrameKind } from "./frame.js";
