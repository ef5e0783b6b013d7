/**
 * The built-in invokables (their names are part of the public interface):
 * `source.sequence`, `source.textFile`, `op.tokenize`, `op.keyedSum`, `op.identity`,
 * `sink.discard`, `sink.textFile`.
 */
import type { InvokableFactory } from "../api.js";
import { discardSink } from "./discard.js";
import { identityOperator } from "./identity.js";
import { keyedSumOperator } from "./keyed-sum.js";
import { InvokableRegistry } from "./registry.js";
import { sequenceSource } from "./sequence.js";
import { textFileSink } from "./text-file-sink.js";
import { textFileSource } from "./text-file-source.js";
import { tokenizeOperator } from "./tokenize.js";

export { InvokableRegistry } from "./registry.js";
export { sequenceSource, shareOf, sequenceCount, type SequenceConfig } from "./sequence.js";
export { textFileSource, readSplitLines, byteRange, READ_CHUNK, type TextFileSourceConfig } from "./text-file-source.js";
export { tokenizeOperator, forEachWord, tokenizeWords } from "./tokenize.js";
export { keyedSumOperator, type KeyedSumConfig } from "./keyed-sum.js";
export { identityOperator } from "./identity.js";
export { discardSink } from "./discard.js";
export { textFileSink, formatLine, partFileName, type TextFileSinkConfig } from "./text-file-sink.js";

const all: InvokableFactory[] = [
  sequenceSource,
  textFileSource,
  tokenizeOperator,
  keyedSumOperator,
  identityOperator,
  discardSink,
  textFileSink,
];

/** The built-in invokables by name. */
export const builtinInvokables: ReadonlyMap<string, InvokableFactory> = new Map(all.map((f) => [f.name, f]));

/** A read-only registry of the built-ins (copy it with `new InvokableRegistry(builtinRegistry)` to add more). */
export const builtinRegistry: InvokableRegistry = new InvokableRegistry(all).freeze();
