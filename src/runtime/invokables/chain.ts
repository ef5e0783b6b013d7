/**
 * `eddy.chain`: several operators fused into one task (Flink's OperatorChain). The JobMaster builds
 * such vertices with `chainOperators` (src/jobgraph/chaining.ts); their config lists the members in
 * order. Member k's output feeds member k+1's input through a {@link ChainHandoff}: same thread, no
 * encoding, bounded, with backpressure. The head member reads the task's input, the tail member
 * writes the task's output. Checkpoint barriers travel in-band through the handoffs: member k+1's
 * input (`nextEvent`) surfaces a barrier after every record member k emitted before forwarding it
 * (`broadcastBarrier` on member k's output), so each member can be snapshotted at its own barrier.
 */
import { ErrorCode, ValidationError } from "../../core/errors.js";
import { EndOfInputSignal } from "../../core/stream-events.js";
import type { Invokable, InvokableFactory, RecordInput, RecordOutput, TaskContext } from "../api.js";
import { ChainHandoff, rejectOnAbort } from "./chain-handoff.js";
import { configError, intSetting, onlyKeys } from "../invokable-common.js";
import { CHAIN_INVOKABLE, isChainInvokable, type ChainMember } from "../../jobgraph/catalog.js";

export { CHAIN_INVOKABLE, type ChainMember };
/** Records per batch handed from one member to the next (default of `batchRecords`). */
export const CHAIN_BATCH_RECORDS = 1024;
/** Queued batches between two members before the upstream one is held back (default of `queueBatches`). */
export const CHAIN_QUEUE_BATCHES = 4;

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Settings of `eddy.chain`. */
export interface ChainConfig {
  /** The fused operators, head first. */
  members: ChainMember[];
  /** Records per handed-over batch, 1..65536 (default {@link CHAIN_BATCH_RECORDS}). */
  batchRecords?: number;
  /** Batches queued between two members before backpressure, 1..1024 (default {@link CHAIN_QUEUE_BATCHES}). */
  queueBatches?: number;
}

/** What the chain needs to find its members' factories. */
export interface MemberLookup {
  get(name: string): InvokableFactory | undefined;
}

/** An `eddy.chain` factory; `memberFactory` says which invokables it can run as members. */
export interface ChainInvokableFactory extends InvokableFactory {
  /** The factory the chain would use for a member of this invokable; undefined when it cannot run one. */
  memberFactory(invokable: string): InvokableFactory | undefined;
}

interface ResolvedChain {
  members: Array<ChainMember & { factory: InvokableFactory }>;
  batchRecords: number;
  queueBatches: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks a chain config and resolves its members; throws ValidationError (InvalidJobGraph / UnknownInvokable). */
function resolveChain(config: Record<string, unknown>, vertexId: string, lookup: MemberLookup): ResolvedChain {
  onlyKeys(config, ["members", "batchRecords", "queueBatches"], CHAIN_INVOKABLE, vertexId);
  const batchRecords = intSetting(config, "batchRecords", { min: 1, max: 65536, dflt: CHAIN_BATCH_RECORDS }, CHAIN_INVOKABLE, vertexId);
  const queueBatches = intSetting(config, "queueBatches", { min: 1, max: 1024, dflt: CHAIN_QUEUE_BATCHES }, CHAIN_INVOKABLE, vertexId);
  const raw = config.members;
  if (!Array.isArray(raw) || raw.length === 0)
    configError(CHAIN_INVOKABLE, vertexId, "config.members must be a non-empty array of {id, name, invokable, config}");
  const seen = new Set<string>();
  const members: ResolvedChain["members"] = [];
  for (let i = 0; i < raw.length; i++) {
    const m: unknown = raw[i];
    const at = `config.members[${i}]`;
    if (!isPlainObject(m)) configError(CHAIN_INVOKABLE, vertexId, `${at} must be an object {id, name, invokable, config}`);
    onlyKeys(m, ["id", "name", "invokable", "config"], CHAIN_INVOKABLE, vertexId);
    const { id, name, invokable } = m;
    const memberConfig = m.config ?? {};
    if (typeof id !== "string" || !ID.test(id)) configError(CHAIN_INVOKABLE, vertexId, `${at}.id must match ${ID.source}`);
    if (seen.has(id)) configError(CHAIN_INVOKABLE, vertexId, `${at}.id "${id}" appears twice; every member needs its own id`);
    seen.add(id);
    if (typeof name !== "string" || name.length === 0) configError(CHAIN_INVOKABLE, vertexId, `${at}.name must be a non-empty string`);
    if (typeof invokable !== "string") configError(CHAIN_INVOKABLE, vertexId, `${at}.invokable must be a string`);
    if (invokable === CHAIN_INVOKABLE) configError(CHAIN_INVOKABLE, vertexId, `${at} is itself a chain; list its members instead`);
    if (!isPlainObject(memberConfig)) configError(CHAIN_INVOKABLE, vertexId, `${at}.config must be an object`);
    const factory = lookup.get(invokable);
    if (!factory) {
      throw new ValidationError(
        ErrorCode.UnknownInvokable,
        `vertex "${vertexId}" (${CHAIN_INVOKABLE}): ${at} (${id}) names the unknown invokable "${invokable}"`,
        {
          details: { vertexId, member: id, invokable },
        },
      );
    }
    if (factory.kind === "source" && i > 0) configError(CHAIN_INVOKABLE, vertexId, `${at} (${id}) is a source (${invokable}) and can only head a chain`);
    if (factory.kind === "sink" && i < raw.length - 1)
      configError(CHAIN_INVOKABLE, vertexId, `${at} (${id}) is a sink (${invokable}) and can only end a chain`);
    members.push({ id, name, invokable, config: memberConfig, factory });
  }
  for (const m of members) m.factory.validate(m.config, m.id);
  return { members, batchRecords, queueBatches };
}

/** A member's running state. */
interface MemberRun {
  ctx: TaskContext;
  invokable: Invokable;
}

interface ChainRun {
  task: TaskContext;
  controller: AbortController;
  members: MemberRun[];
  handoffs: ChainHandoff[];
  detach(): void;
}

/**
 * Runs the members of one chain inside one task. `restore` restores every member in order; `invoke`
 * runs them all at once and fails when any of them fails (the others see their signal abort and are
 * awaited before the failure is reported).
 */
export class ChainInvokable implements Invokable {
  private readonly invokables: Invokable[];
  private run: ChainRun | undefined;

  /** Creates every member's invokable; use an `eddy.chain` factory's `create(config)`, which checks the config first. */
  constructor(private readonly chain: ResolvedChain) {
    this.invokables = chain.members.map((m) => m.factory.create(m.config));
  }

  /** Most batches ever queued between member k and k+1, per k (empty before the chain ran). */
  maxQueuedBatches(): number[] {
    return this.run ? this.run.handoffs.map((h) => h.maxQueued) : [];
  }

  async restore(ctx: TaskContext): Promise<void> {
    const run = this.prepare(ctx);
    for (let i = 0; i < run.members.length; i++) {
      const m = run.members[i]!;
      if (m.invokable.restore) await m.invokable.restore(m.ctx);
    }
  }

  async invoke(ctx: TaskContext): Promise<void> {
    const run = this.prepare(ctx);
    let failure: { err: unknown } | undefined;
    let stopped = false;
    const last = run.members.length - 1;
    const runMember = async (i: number): Promise<void> => {
      const m = run.members[i]!;
      try {
        try {
          await m.invokable.invoke(m.ctx);
        } catch (err) {
          // A source member stopped by stop-with-savepoint ends normally (its output is finished below).
          if (!(err instanceof EndOfInputSignal)) throw err;
          stopped = true;
        }
        // As the Task does for the task's output: end the member's output even if it did not.
        if (i < last) await run.handoffs[i]!.finish();
        if (i > 0) run.handoffs[i - 1]!.closeConsumer();
      } catch (err) {
        if (!failure) failure = { err };
        if (!run.controller.signal.aborted) run.controller.abort(err);
        throw err;
      }
    };
    try {
      await Promise.allSettled(run.members.map((_, i) => runMember(i)));
    } finally {
      run.detach();
    }
    if (failure) throw failure.err;
    // The task must know the chain was stopped by its savepoint: it waits for no final checkpoint then.
    if (stopped) throw new EndOfInputSignal();
  }

  /**
   * The members this deployment runs: those that would only forward their records
   * ({@link Invokable.passesThrough}) are left out, unless none would be left.
   */
  private membersFor(task: TaskContext): { members: ResolvedChain["members"]; invokables: Invokable[] } {
    const all = this.chain.members;
    const members: ResolvedChain["members"] = [];
    const invokables: Invokable[] = [];
    for (let i = 0; i < all.length; i++) {
      const inv = this.invokables[i]!;
      const tdd = i === all.length - 1 ? task.tdd : { ...task.tdd, outputs: [] };
      if (inv.passesThrough?.(tdd) && (members.length > 0 || i < all.length - 1)) continue;
      members.push(all[i]!);
      invokables.push(inv);
    }
    return { members, invokables };
  }

  private prepare(task: TaskContext): ChainRun {
    if (this.run && this.run.task === task) return this.run;
    this.run?.detach();
    const { members, invokables } = this.membersFor(task);
    const { batchRecords, queueBatches } = this.chain;
    const controller = new AbortController();
    const onTaskAbort = () => controller.abort(task.signal.reason);
    if (task.signal.aborted) controller.abort(task.signal.reason);
    else task.signal.addEventListener("abort", onTaskAbort, { once: true });
    const signal = controller.signal;
    const handoffs: ChainHandoff[] = [];
    for (let i = 0; i < members.length - 1; i++) handoffs.push(new ChainHandoff(batchRecords, queueBatches, signal));
    const last = members.length - 1;
    const runs: MemberRun[] = members.map((m, i) => {
      const input: RecordInput = i === 0 ? abortableInput(task.input, signal) : handoffs[i - 1]!;
      const output: RecordOutput = i === last ? abortableOutput(task.output, signal) : handoffs[i]!;
      const invokable = invokables[i]!;
      // Each member is an operator of its own for checkpointing: own state, own barrier handling.
      const binding = task.bindOperator(m.id, invokable, { input, output, ctx: () => ctx });
      const ctx: TaskContext = {
        tdd: {
          ...task.tdd,
          vertexId: m.id,
          vertexName: m.name,
          invokable: m.invokable,
          config: m.config,
          inputs: i === 0 ? task.tdd.inputs : [],
          outputs: i === last ? task.tdd.outputs : [],
        },
        input: binding.input,
        output,
        signal,
        log: task.log.child({ chainMember: m.id }),
        accumulator: (name) => task.accumulator(name),
        yield: () => binding.yield(),
        keyedState: binding.keyedState,
        operatorState: binding.operatorState,
        checkpointing: task.checkpointing,
        ...(task.nats ? { nats: task.nats } : {}),
        ...(task.natsPrefix !== undefined ? { natsPrefix: task.natsPrefix } : {}),
        bindOperator: (id, inv, io) => task.bindOperator(id, inv, io),
        ...(task.userCode ? { userCode: task.userCode } : {}),
      };
      return { ctx, invokable };
    });
    const run: ChainRun = {
      task,
      controller,
      members: runs,
      handoffs,
      detach: () => {
        task.signal.removeEventListener("abort", onTaskAbort);
        for (const h of handoffs) h.dispose();
      },
    };
    this.run = run;
    return run;
  }
}

/**
 * The task's input, whose `next()` and `nextEvent()` also end when the chain aborts (a member
 * failed). Checkpoint events pass through (`nextEvent`, `abortCheckpoint`) when the task's input has them.
 */
function abortableInput(input: RecordInput, signal: AbortSignal): RecordInput {
  const wrapped: RecordInput = {
    next: () => rejectOnAbort(input.next(), signal),
    recycle: (b) => input.recycle(b),
  };
  if (input.nextEvent) {
    const nextEvent = input.nextEvent.bind(input);
    wrapped.nextEvent = () => rejectOnAbort(nextEvent(), signal);
  }
  if (input.abortCheckpoint) wrapped.abortCheckpoint = input.abortCheckpoint.bind(input);
  return wrapped;
}

/**
 * The task's output, whose `available()` also resolves when the chain aborts. Barriers and cancel
 * markers pass through when the task's output carries them.
 */
function abortableOutput(output: RecordOutput, signal: AbortSignal): RecordOutput {
  const wrapped: RecordOutput = {
    emit: output.emit.bind(output),
    isAvailable: () => output.isAvailable(),
    available: () => rejectOnAbort(output.available(), signal).catch(() => undefined), // aborted: the caller's loop sees the signal
    flush: () => output.flush(),
    finish: () => output.finish(),
  };
  if (output.broadcastBarrier) wrapped.broadcastBarrier = output.broadcastBarrier.bind(output);
  if (output.broadcastCancelMarker) wrapped.broadcastCancelMarker = output.broadcastCancelMarker.bind(output);
  if (output.emitWatermark) wrapped.emitWatermark = output.emitWatermark.bind(output);
  if (output.emitTo) wrapped.emitTo = output.emitTo.bind(output);
  return wrapped;
}

/**
 * An `eddy.chain` factory whose members are looked up in `lookup()` (called lazily, so a registry can
 * hold the chain factory that looks into it). Its `kind` is "operator"; a chain is really a source when
 * its head is one and a sink when its tail is one.
 */
export function createChainFactory(lookup: () => MemberLookup): ChainInvokableFactory {
  const memberFactory = (invokable: string): InvokableFactory | undefined => (invokable === CHAIN_INVOKABLE ? undefined : lookup().get(invokable));
  return {
    name: CHAIN_INVOKABLE,
    description:
      "Operators chained into one task (built by the JobMaster). Config {members: [{id, name, invokable, config}, ...], batchRecords?, queueBatches?}.",
    kind: "operator",
    memberFactory,
    validate(config, vertexId) {
      resolveChain(config, vertexId, { get: memberFactory });
    },
    create(config) {
      return new ChainInvokable(resolveChain(config, "?", { get: memberFactory }));
    },
  };
}

/** Type guard: `f` is a chain factory (knows which members it can run). */
export function isChainFactory(f: InvokableFactory | undefined): f is ChainInvokableFactory {
  return isChainInvokable(f);
}
