/**
 * `eddy.stream.invokable`: an invokable written in the job's own code (the actor SDK the stream API
 * stands on). Its config names a factory in the job's user functions; each subtask calls it once and
 * the returned {@link Invokable} gets every hook: `restore`, `invoke`, `snapshotState`,
 * `notifyCheckpointComplete`, `notifyCheckpointAborted`.
 */
import type { Invokable, InvokableFactory } from "../../api.js";
import { refSetting, userFunction } from "../../streaming/stream-operator.js";
import { defineStreamInvokable } from "./define.js";

function userInvokable(kind: InvokableFactory["kind"], name: string): InvokableFactory {
  return defineStreamInvokable<{ fn: string }>({
    name,
    description: `A ${kind} invokable from the job's code: config.fn names a factory () => Invokable (restore, invoke, snapshotState, notifyCheckpointComplete). Config {fn: ref}.`,
    kind,
    keys: ["fn"],
    settings: (config, vertexId) => ({ fn: refSetting(config, "fn", name, vertexId)! }),
    create(s, ctx) {
      const inv = userFunction<() => Invokable>(ctx, s.fn)();
      if (typeof inv?.invoke !== "function") throw new TypeError(`vertex "${ctx.tdd.vertexId}": the invokable factory must return an object with invoke(ctx)`);
      return inv;
    },
  });
}

/** User invokables as a source, an operator and a sink (chaining and validation go by kind). */
export const userSourceInvokable = userInvokable("source", "eddy.user.source");
export const userOperatorInvokable = userInvokable("operator", "eddy.user.operator");
export const userSinkInvokable = userInvokable("sink", "eddy.user.sink");
