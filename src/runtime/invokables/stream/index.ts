/**
 * The invokables of the stream API (src/sdk): each runs user functions that `ctx.userCode` resolves
 * from the refs in its config. Registered with the built-ins, so workers run them like any invokable.
 */
import type { InvokableFactory } from "../../api.js";
import { filterOperator, flatMapOperator, keyByOperator, mapOperator, processOperator, watermarksOperator } from "./one-input.js";
import { coProcessOperator, keyedProcessOperator, reduceOperator } from "./keyed.js";
import { windowOperator } from "./window-operator.js";
import { intervalJoinOperator } from "./interval-join-operator.js";
import { actorDispatchOperator } from "./actor-dispatch.js";
import { actorFeedbackOperator } from "./actor-feedback.js";
import { generatorSource, userSource } from "./sources.js";
import { collectSink, printSink, userSink } from "./sinks.js";
import { userOperatorInvokable, userSinkInvokable, userSourceInvokable } from "./user-invokable.js";

export { defineStreamInvokable, type StreamInvokableSpec } from "./define.js";
export {
  filterOperator,
  flatMapOperator,
  keyByOperator,
  mapOperator,
  processOperator,
  watermarksOperator,
  coProcessOperator,
  keyedProcessOperator,
  reduceOperator,
  windowOperator,
  intervalJoinOperator,
  actorDispatchOperator,
  actorFeedbackOperator,
  generatorSource,
  userSource,
  collectSink,
  printSink,
  userSink,
  userSourceInvokable,
  userOperatorInvokable,
  userSinkInvokable,
};

/** Every stream-API invokable. */
export const streamInvokables: InvokableFactory[] = [
  generatorSource,
  userSource,
  userSourceInvokable,
  mapOperator,
  flatMapOperator,
  filterOperator,
  processOperator,
  keyByOperator,
  watermarksOperator,
  reduceOperator,
  keyedProcessOperator,
  coProcessOperator,
  windowOperator,
  intervalJoinOperator,
  actorDispatchOperator,
  actorFeedbackOperator,
  userOperatorInvokable,
  printSink,
  collectSink,
  userSink,
  userSinkInvokable,
];
