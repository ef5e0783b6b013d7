/**
 * How stream-API invokables are declared: a factory whose invokable resolves its user functions once
 * the task context exists (`restore`, which always runs first), then delegates every hook.
 */
import type { CheckpointBarrier, Invokable, InvokableFactory, TaskContext } from "../../api.js";
import { defineInvokable, type InvokableSpec } from "../../define-invokable.js";

/** What one stream invokable declares: a built-in's spec whose `create` also gets the task context. */
export interface StreamInvokableSpec<C> extends Omit<InvokableSpec<C>, "settings" | "create"> {
  /** Checks and reads the config (its keys already checked); throws ValidationError (InvalidJobGraph) saying what to fix. */
  settings(config: Record<string, unknown>, vertexId: string): C;
  /** Builds the operator for one subtask, given its context (user functions come from `ctx.userCode`). */
  create(settings: C, ctx: TaskContext): Invokable;
}

/**
 * The invokable of a stream operator before and after its user functions are resolved. The commit hooks
 * exist only when the operator has them (the runtime treats a task with `notifyCheckpointComplete` as a
 * two-phase-commit one that finishes after a final checkpoint, FLIP-147).
 */
class Deferred<C> implements Invokable {
  private inner: Invokable | undefined;
  notifyCheckpointComplete?: (ctx: TaskContext, checkpointId: number) => Promise<void> | void;
  notifyCheckpointAborted?: (ctx: TaskContext, checkpointId: number) => void;
  constructor(
    private readonly spec: StreamInvokableSpec<C>,
    private readonly settings: C,
  ) {}
  private of(ctx: TaskContext): Invokable {
    if (this.inner) return this.inner;
    const inner = (this.inner = this.spec.create(this.settings, ctx));
    if (inner.notifyCheckpointComplete) this.notifyCheckpointComplete = (c, id) => inner.notifyCheckpointComplete!(c, id);
    if (inner.notifyCheckpointAborted) this.notifyCheckpointAborted = (c, id) => inner.notifyCheckpointAborted!(c, id);
    return inner;
  }
  async restore(ctx: TaskContext): Promise<void> {
    const i = this.of(ctx);
    if (i.restore) await i.restore(ctx);
  }
  invoke(ctx: TaskContext): Promise<void> {
    return this.of(ctx).invoke(ctx);
  }
  snapshotState(ctx: TaskContext, checkpointId: number, barrier?: CheckpointBarrier): void {
    this.inner?.snapshotState?.(ctx, checkpointId, barrier);
  }
}

/** The registry entry of a stream invokable. */
export function defineStreamInvokable<C>(spec: StreamInvokableSpec<C>): InvokableFactory {
  return defineInvokable<C>({
    name: spec.name,
    description: spec.description,
    kind: spec.kind,
    keys: spec.keys,
    settings: spec.settings,
    create: (settings) => new Deferred(spec, settings),
  });
}
