/**
 * `eddy.actors.dispatch`: runs an actor application's actors (Flink StateFun's function dispatcher).
 * Its input is the ingresses' messages, keyed by address; each actor's state is keyed state under its
 * address, so it is checkpointed, restored and redistributed by key group like any keyed state.
 *
 * Messages actors send each other wait in a queue of this subtask, delayed ones (`sendAfter`) in a
 * timer list, and messages for remote types in the remote calls until their reply is applied. All three
 * are part of every checkpoint (union operator state, kept on restore by the subtask owning each
 * message's address), so after a failure every message is delivered and applied exactly once. A
 * message is handled whole between two reads of the input (where barriers are taken), so no checkpoint
 * sees half of one.
 *
 * Over several subtasks (`config.group`), a message for an address another subtask owns goes out on
 * the main output, a hash edge to the feedback vertex, whose subtask there hands it back through the
 * feedback channel both share (actor-feedback.ts); the channel logs what is in flight at a checkpoint.
 *
 * After a stop-with-savepoint's barrier nothing more is handled (Flink's stop without drain): the
 * savepoint holds every message still waiting, and the resumed job handles them; the subtask ends with
 * its input. Should that savepoint be given up, handling goes on.
 *
 * The application ends when its input ended (every ingress exhausted) and no message waits, is
 * delayed or is out at a remote function anywhere: over several subtasks, rounds of probes on the
 * feedback loop say so (src/runtime/actors/termination-rounds.ts).
 */
import { EddyError, ErrorCode } from "../../../core/errors.js";
import { isWatermarkEvent, type CheckpointBarrier, type StreamElement } from "../../../core/stream-events.js";
import { keyGroupFor, rangeContains } from "../../../state/key-groups.js";
import type { KeyedStateBackend, ListState, ValueState } from "../../../state/api.js";
import type { Invokable, InvokableFactory, TaskContext } from "../../api.js";
import { recordCounters } from "../../invokable-common.js";
import { AsyncFailure, gateReaders, StreamOutput, userFunction, type GateReader } from "../../streaming/stream-operator.js";
import { defineStreamInvokable } from "./define.js";
import { DelayedMessages, type DelayedMessage } from "../../actors/delayed-messages.js";
import { MessageQueue } from "../../actors/message-queue.js";
import { feedbackChannel, feedbackGroupOf, isProbe, releaseFeedbackChannel, type FeedbackChannel } from "../../actors/feedback-channel.js";
import { probeKeys, TerminationRounds } from "../../actors/termination-rounds.js";
import { RemoteCalls } from "../../actors/remote-calls.js";
import type { RemoteReply } from "../../actors/remote-protocol.js";
import { LocalActorContext } from "../../actors/local-actor-context.js";
import { ACTOR_DISPATCH, actorDispatchSettings, checkRegistry, type ActorDispatchSettings } from "./actor-dispatch-settings.js";
import { addressKey, addressProblem, type ActorRegistry, type Address, type Envelope, type LocalActorType } from "../../actors/types.js";

const NAME = ACTOR_DISPATCH;
/** Messages handled between two looks at the input and the timers. */
const SLICE = 1024;
/** The input is read only while fewer messages than this wait in the queue. */
const MAX_QUEUED = 16 * 1024;

class ActorOperator implements Invokable {
  private readonly registry: ActorRegistry;
  private readonly so: StreamOutput;
  private readonly egresses: ReadonlySet<string>;
  private readonly failure = new AsyncFailure();
  private readonly queue = new MessageQueue();
  private readonly delayed = new DelayedMessages(() => this.wake());
  private remote: RemoteCalls | undefined;
  private keyed!: KeyedStateBackend;
  private state!: ValueState<unknown>;
  private queueState!: ListState<Envelope>;
  private delayedState!: ListState<DelayedMessage>;
  private wakeUp: (() => void) | undefined;
  /** Over several subtasks: the channel from the feedback vertex, and who owns an address. */
  private channel: FeedbackChannel | undefined;
  private owned: (a: Address) => boolean = () => true;
  private ctx!: TaskContext;
  /** A key per subtask that the hash edge sends to that subtask (for probes). */
  private probeKeys: string[] = [];
  private rounds: TerminationRounds | undefined;
  /** The stop-with-savepoint taken, while nothing is handled; replies that came meanwhile. */
  private stopping: number | undefined;
  private heldReplies: Array<() => void> = [];
  /** Reused for every message of a local actor. */
  private readonly actx: LocalActorContext;

  constructor(
    private readonly s: ActorDispatchSettings,
    ctx: TaskContext,
  ) {
    this.registry = checkRegistry(userFunction<ActorRegistry>(ctx, s.fn), ctx.tdd.vertexId);
    this.so = new StreamOutput(ctx.output, s.sides);
    this.egresses = new Set(this.registry.egresses);
    this.actx = new LocalActorContext(
      {
        send: (e) => this.route(e),
        sendAt: (due, envelope) => this.delayed.add({ due, envelope }),
        egress: (name, value) => this.so.side(name, value),
        target: (to, from) => this.checkTarget(to, from),
      },
      this.egresses,
    );
  }

  async restore(ctx: TaskContext): Promise<void> {
    this.ctx = ctx;
    this.keyed = ctx.keyedState;
    this.state = ctx.keyedState.getValueState<unknown>("actor");
    this.queueState = ctx.operatorState.getUnionListState<Envelope>("actors.queue");
    this.delayedState = ctx.operatorState.getUnionListState<DelayedMessage>("actors.delayed");
    // Every subtask sees every subtask's messages: each keeps those of the addresses it owns.
    const { keyGroupRange, maxParallelism } = ctx.keyedState;
    const mine = (a: Address) => rangeContains(keyGroupRange, keyGroupFor(addressKey(a), maxParallelism));
    for (const e of this.queueState.get()) if (mine(e.to)) this.queue.push(e);
    for (const d of this.delayedState.get()) if (mine(d.envelope.to)) this.delayed.add(d);
    if (this.s.group !== undefined) {
      const { jobId, subtaskIndex, attemptNumber, parallelism } = ctx.tdd;
      this.channel = feedbackChannel(jobId, this.s.group, subtaskIndex, attemptNumber);
      this.channel.onData = () => this.wake();
      this.owned = mine;
      this.probeKeys = probeKeys(maxParallelism, parallelism);
      this.rounds = new TerminationRounds(subtaskIndex, parallelism);
    }
    if (Object.values(this.registry.types).some((t) => t.kind === "remote")) {
      if (!ctx.nats || ctx.natsPrefix === undefined) throw new EddyError(ErrorCode.TaskFailed, `${NAME}: remote actor types need the worker's NATS connection`);
      this.remote = new RemoteCalls({
        nats: ctx.nats,
        prefix: ctx.natsPrefix,
        settings: this.s.remote,
        types: new Set(Object.keys(this.registry.types)),
        egresses: this.egresses,
        stateOf: (a) => this.stateOf(a),
        apply: (a, batch, reply) => {
          if (this.stopping === undefined) this.applyReply(a, batch, reply);
          else this.heldReplies.push(() => this.applyReply(a, batch, reply));
        },
        fail: (err) => this.fail(err),
        wake: () => this.wake(),
      });
    }
  }

  snapshotState(_ctx: TaskContext, checkpointId: number, barrier?: CheckpointBarrier): void {
    this.channel?.startLog(checkpointId);
    if (barrier?.stop) this.stopping = checkpointId;
    // Remote messages first: each address's held messages came before any of its messages still queued.
    this.queueState.update(this.remote ? [...this.remote.toArray(), ...this.queue.toArray()] : this.queue.toArray());
    this.delayedState.update(this.delayed.toArray());
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.state) await this.restore(ctx);
    const input = ctx.input;
    const out = ctx.output;
    const readers = gateReaders(ctx, this.s.inputs, ctx.tdd.inputs.length);
    const counters = recordCounters(ctx);
    const race = <T>(p: Promise<T>) => Promise.race([p, this.failure.promise]);
    let next: Promise<StreamElement | null> | null = null;
    let ended = false;
    const onElement = (e: StreamElement | null) => {
      next = null;
      if (e === null) {
        ended = true;
      } else if (isWatermarkEvent(e)) {
        if (Number.isFinite(e.watermark)) out.emitWatermark?.(e.watermark);
      } else {
        const r = readers[e.gate] ?? readers[0]!;
        counters.in.add(e.records.length);
        for (let i = 0; i < e.records.length; i++) this.queue.push(this.ingressMessage(r, e.records[i]));
        input.recycle(e);
      }
    };
    try {
      for (;;) {
        this.failure.throwIfFailed();
        if (this.stopping !== undefined) {
          // Stopped by a savepoint: read the input to its end (or until the savepoint is given up).
          if (ended) break;
          if (next === null) {
            next = input.nextElement ? input.nextElement() : input.next();
            next.catch(() => undefined);
          }
          const e = await race(Promise.race([next, this.sleep()]));
          if (e !== TURN) onElement(e as StreamElement | null);
          continue;
        }
        for (const m of this.delayed.takeDue(Date.now())) this.route(m);
        if (this.channel) this.takeFeedback();
        if (!ended && next === null && this.queue.length < MAX_QUEUED) {
          next = input.nextElement ? input.nextElement() : input.next();
          next.catch(() => undefined); // awaited below; a rejection while it is not awaited must not go unhandled
        }
        if (this.queue.length > 0) {
          for (let n = 0; n < SLICE && this.queue.length > 0; n++) this.deliver(this.queue.shift()!);
          this.failure.throwIfFailed();
          if (!out.isAvailable()) await race(out.available());
          // Let replies, timers and a ready input element in before the next slice.
          const e = await race(next === null ? nextTurn() : Promise.race([next, nextTurn()]));
          if (e !== TURN) onElement(e as StreamElement | null);
          continue;
        }
        if (next !== null) {
          const e = await race(Promise.race([next, this.sleep()]));
          if (e !== TURN) onElement(e as StreamElement | null);
          continue;
        }
        if (ended && this.delayed.length === 0 && (this.remote?.pending ?? 0) === 0) {
          if (!this.channel) break;
          if (this.channel.length === 0 && this.passiveRound()) break;
          if (this.channel.length > 0) continue;
        }
        await race(this.sleep());
      }
    } finally {
      this.delayed.close();
      this.remote?.close();
      if (this.channel) {
        this.channel.onData = undefined;
        releaseFeedbackChannel(ctx.tdd.jobId, this.s.group!, ctx.tdd.subtaskIndex, this.channel);
      }
      const w = this.wakeUp;
      this.wakeUp = undefined;
      w?.();
    }
  }

  /** Resolves with {@link TURN} at the next wake-up (a reply applied, a delayed message due). */
  private sleep(): Promise<typeof TURN> {
    return new Promise((resolve) => {
      this.wakeUp = () => resolve(TURN);
    });
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private fail(err: unknown): void {
    this.failure.fail(err);
    this.wake();
  }

  /** The message an ingress record carries (made by the SDK's router, checked there). */
  private ingressMessage(r: GateReader, record: unknown): Envelope {
    const m = r.value(record) as { to: Address; body: unknown };
    return { to: m.to, from: null, body: m.body };
  }

  /** Checks an address an actor sends to: well formed, of a type the application has. */
  private checkTarget(to: Address, from: Address): Address {
    const problem = addressProblem(to);
    if (problem) throw new EddyError(ErrorCode.TaskFailed, `actor ${from.type}/${from.id} sent a message to a wrong address: ${problem}`);
    if (!(to.type in this.registry.types)) throw unknownType(to);
    return { type: to.type, id: to.id };
  }

  notifyCheckpointAborted(_ctx: TaskContext, checkpointId: number): void {
    this.channel?.dropLog(checkpointId);
    if (this.stopping === checkpointId) {
      this.stopping = undefined;
      for (const apply of this.heldReplies.splice(0)) apply();
      this.wake();
    }
  }

  /** A message to its actor: here when this subtask owns the address, else through the feedback vertex. */
  private route(e: Envelope): void {
    if (this.owned(e.to)) this.queue.push(e);
    else {
      this.rounds?.activity();
      this.so.collector.collect([addressKey(e.to), e]);
    }
  }

  /** Moves what the feedback channel holds into the queue (messages) or the round bookkeeping (probes). */
  private takeFeedback(): void {
    const ch = this.channel!;
    while (ch.length > 0 && this.queue.length < MAX_QUEUED) {
      const x = ch.take()!;
      if (isProbe(x)) this.rounds!.onProbe(x);
      else this.queue.push(x);
    }
  }

  /** This subtask is passive: true when the application ended; else it probes the next round when due. */
  private passiveRound(): boolean {
    const r = this.rounds!.passive();
    if (r === "ended") return true;
    if (r !== "wait") {
      for (let j = 0; j < this.probeKeys.length; j++) this.so.collector.collect([this.probeKeys[j]!, r]);
      this.ctx.output.flush();
    }
    return false;
  }

  private deliver(e: Envelope): void {
    this.rounds?.activity();
    const t = this.registry.types[e.to.type];
    if (t === undefined) throw unknownType(e.to);
    if (t.kind === "remote") this.remote!.add(e);
    else this.handle(t as LocalActorType, e);
  }

  /** One message to a local actor: its state in, `onMessage`, its state out. */
  private handle(t: LocalActorType, e: Envelope): void {
    this.keyed.setCurrentKey(addressKey(e.to));
    const c = this.actx;
    const stored = this.state.value();
    c.enter(e.to, e.from, stored === undefined ? initialState(t) : stored);
    t.onMessage(c, e.body);
    if (c.cleared && c.state === undefined) this.state.clear();
    else this.state.update(c.state);
  }

  private stateOf(a: Address): unknown {
    this.keyed.setCurrentKey(addressKey(a));
    return this.state.value();
  }

  /** A remote function's reply to `batch`, checked: state, then messages, then egress records. */
  private applyReply(a: Address, _batch: readonly Envelope[], reply: RemoteReply): void {
    this.keyed.setCurrentKey(addressKey(a));
    if (reply.state === null) this.state.clear();
    else this.state.update(reply.state);
    const now = Date.now();
    for (const s of reply.send) {
      const env: Envelope = { to: s.to, from: a, body: s.body };
      if (s.delayMs) this.delayed.add({ due: now + s.delayMs, envelope: env });
      else this.route(env);
    }
    for (const x of reply.egress) this.so.side(x.name, x.value);
  }
}

const TURN = Symbol("turn");

/** Resolves after pending I/O callbacks ran (replies, timers, input). */
function nextTurn(): Promise<typeof TURN> {
  return new Promise((resolve) => setImmediate(resolve, TURN));
}

function unknownType(a: Address): EddyError {
  return new EddyError(ErrorCode.UnknownActorType, `a message was sent to ${a.type}/${a.id}, but the application has no actor type ${JSON.stringify(a.type)}`, {
    details: { address: a },
  });
}

/** A fresh initial state: the type's function called, or its value copied (actors never share one object). */
function initialState(t: LocalActorType): unknown {
  const v = t.initialState;
  if (typeof v === "function") return (v as () => unknown)();
  return v !== null && typeof v === "object" ? structuredClone(v) : v;
}

/** `eddy.actors.dispatch` {fn, inputs, sides?, remote?}: the actors of an application (see the module comment). */
export const actorDispatchOperator: InvokableFactory = {
  ...defineStreamInvokable<ActorDispatchSettings>({
    name: NAME,
    description:
      "Runs an actor application: messages keyed by address, each actor's state in keyed state, messages between actors, delayed ones and those out at remote functions kept in checkpoints. Config {fn: ref (registry), inputs (keyed by address), sides? (egress names), remote? {timeoutMs, maxInFlight, maxBatch, maxReplyBytes}}.",
    kind: "operator",
    keys: ["fn", "inputs", "sides", "remote", "group"],
    settings: actorDispatchSettings,
    create: (s, ctx) => new ActorOperator(s, ctx),
  }),
  // Over several subtasks the dispatch heads the loop the feedback vertex closes (config.group).
  iteration: { role: "head", channel: feedbackGroupOf },
};
