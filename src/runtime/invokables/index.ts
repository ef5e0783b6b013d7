/**
 * The built-in invokables (their names are part of the public interface):
 * `source.sequence`, `source.textFile`, `op.tokenize`, `op.keyedSum`, `op.identity`,
 * `sink.discard`, `sink.textFile`, `source.jetstream`, `sink.jetstream`, the stream API's `eddy.stream.*` and `eddy.user.*` (src/runtime/invokables/stream/); and `eddy.chain`, the runtime's own (operators chained into one task
 * by the JobMaster), which resolves but is not advertised in `names()`/`keys()`.
 */
import type { InvokableFactory } from "../api.js";
import { discardSink } from "./discard.js";
import { identityOperator } from "./identity.js";
import { keyedSumOperator } from "./keyed-sum.js";
import { InvokableRegistry } from "./registry.js";
import { CHAIN_INVOKABLE, createChainFactory } from "./chain.js";
import { sequenceSource } from "./sequence.js";
import { textFileSink } from "./text-file-sink.js";
import { textFileSource } from "./text-file-source.js";
import { tokenizeOperator } from "./tokenize.js";
import { keyedEventsSource } from "./keyed-events.js";
import { countPerKeyOperator } from "./count-per-key.js";
import { jetStreamSink } from "./jetstream-sink.js";
import { jetStreamSource } from "./jetstream-source.js";
import { streamInvokables } from "./stream/index.js";

export { InvokableRegistry } from "./registry.js";
export { sequenceSource, shareOf, sequenceCount, type SequenceConfig } from "./sequence.js";
export { textFileSource, readSplitLines, byteRange, READ_CHUNK, type TextFileSourceConfig } from "./text-file-source.js";
export { tokenizeOperator, forEachWord, tokenizeWords } from "./tokenize.js";
export { keyedSumOperator, type KeyedSumConfig } from "./keyed-sum.js";
export { identityOperator } from "./identity.js";
export { keyedEventsSource, type KeyedEventsConfig } from "./keyed-events.js";
export { countPerKeyOperator } from "./count-per-key.js";
export { jetStreamSink } from "./jetstream-sink.js";
export {
  jetStreamSource,
  jetStreamSourceSettings,
  payloadDecoder,
  JETSTREAM_FORMATS,
  type JetStreamFormat,
  type JetStreamSourceConfig,
} from "./jetstream-source.js";
export { assignSplits, initialSplits, refineSplits, partitionFilters, isSplitDone, type JetStreamSplit } from "./jetstream-splits.js";
export { discardSink } from "./discard.js";
export { textFileSink, partFileName, type TextFileSinkConfig } from "./text-file-sink.js";
export { formatLine } from "../invokable-common.js";
export {
  ChainInvokable,
  createChainFactory,
  isChainFactory,
  CHAIN_INVOKABLE,
  CHAIN_BATCH_RECORDS,
  CHAIN_QUEUE_BATCHES,
  type ChainConfig,
  type ChainMember,
  type ChainInvokableFactory,
  type MemberLookup,
} from "./chain.js";
export { ChainHandoff } from "./chain-handoff.js";
export { streamInvokables } from "./stream/index.js";

/** `eddy.chain` over the built-ins: runs chains whose members are built-in invokables. */
export const chainInvokable = createChainFactory(() => builtinRegistry);

const all: InvokableFactory[] = [
  sequenceSource,
  textFileSource,
  keyedEventsSource,
  jetStreamSource,
  tokenizeOperator,
  countPerKeyOperator,
  keyedSumOperator,
  identityOperator,
  discardSink,
  textFileSink,
  jetStreamSink,
  ...streamInvokables,
  chainInvokable,
];

/** Invokables the runtime writes into graphs itself: resolvable by name, not listed to job authors. */
const internal = new Set<string>([CHAIN_INVOKABLE]);

/** The built-ins' registry: `names()` and `keys()` list what a JobGraph author writes. */
class BuiltinRegistry extends InvokableRegistry {
  override names(): string[] {
    return super.names().filter((n) => !internal.has(n));
  }
  override *keys(): IterableIterator<string> {
    for (const n of super.keys()) if (!internal.has(n)) yield n;
  }
}

/** The built-in invokables by name. */
export const builtinInvokables: ReadonlyMap<string, InvokableFactory> = new Map(all.map((f) => [f.name, f]));

/** A read-only registry of the built-ins (copy it with `new InvokableRegistry(builtinRegistry)` to add more). */
export const builtinRegistry: InvokableRegistry = new BuiltinRegistry(all).freeze();

export { createJobRegistry, declaredInvokable, JobInvokableRegistry } from "./registry.js";
