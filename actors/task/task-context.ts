import type { NatsConnection } from "@nats-io/transport-node";
import { InternalError } from "../../src/core/errors.js";
import type { Logger } from "../../src/core/logger.js";
import type { TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import type { Accumulator, Invokable, RecordInput, RecordOutput, TaskContext, UserCode } from "../../src/runtime/api.js";
import { CHAIN_INVOKABLE } from "../../src/runtime/invokables/chain.js";
import type { TaskStateManager } from "../../src/checkpoint/task/index.js";

/** What a task's context is made of. */
export interface TaskContextParts {
  tdd: TaskDeploymentDescriptor;
  invokable: Invokable;
  input: RecordInput;
  output: RecordOutput;
  state: TaskStateManager;
  signal: AbortSignal;
  log: Logger;
  accumulator(name: string): Accumulator;
  nats?: NatsConnection;
  natsPrefix?: string;
  userCode?: UserCode;
}

/**
 * The TaskContext an invokable runs with (Flink's StreamTask environment): a chain binds each of its
 * members to the task's state itself; any other invokable is the task's one operator and is bound
 * here, its input and output passing through the binding (barriers, snapshots, restore). Used by
 * the Task and by the in-process test runtime alike.
 */
export function createTaskContext(p: TaskContextParts): TaskContext {
  const { tdd, input, output } = p;
  const binding = tdd.invokable === CHAIN_INVOKABLE ? undefined : p.state.bind(tdd.vertexId, p.invokable, { input, output, ctx: () => ctx });
  const noState = (): never => {
    throw new InternalError("a chain has no state of its own; its members do");
  };
  const ctx: TaskContext = {
    tdd,
    input: binding?.input ?? input,
    output,
    signal: p.signal,
    log: p.log,
    accumulator: p.accumulator,
    yield: binding ? () => binding.yield() : () => new Promise<void>((r) => setImmediate(r)),
    get keyedState() {
      return binding?.keyedState ?? noState();
    },
    get operatorState() {
      return binding?.operatorState ?? noState();
    },
    checkpointing: tdd.checkpointing === true,
    ...(p.nats ? { nats: p.nats } : {}),
    ...(p.natsPrefix !== undefined ? { natsPrefix: p.natsPrefix } : {}),
    bindOperator: (id, inv, io) => p.state.bind(id, inv, io),
    ...(p.userCode ? { userCode: p.userCode } : {}),
  };
  return ctx;
}
