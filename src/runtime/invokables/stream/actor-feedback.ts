/**
 * `eddy.actors.feedback`: subtask i of an actor application's feedback vertex. It receives, on a hash
 * edge from the actors' vertex, the messages for the addresses subtask i owns (and the termination
 * probes meant for it), and hands them to the actors' subtask i in the same slot through their
 * feedback channel (src/runtime/actors/feedback-channel.ts). At each checkpoint it keeps what the
 * channel says is in flight, and a restore hands those messages over first, before anything new.
 */
import { keyGroupFor, rangeContains } from "../../../state/key-groups.js";
import type { ListState } from "../../../state/api.js";
import type { Invokable, InvokableFactory, TaskContext } from "../../api.js";
import { configError, stringSetting } from "../../invokable-common.js";
import { feedbackChannel, feedbackGroupOf, releaseFeedbackChannel, type FeedbackChannel, type FeedbackItem } from "../../actors/feedback-channel.js";
import { addressKey, type Envelope } from "../../actors/types.js";
import { defineStreamInvokable } from "./define.js";

const NAME = "eddy.actors.feedback";

class ActorFeedback implements Invokable {
  private channel!: FeedbackChannel;
  private state!: ListState<Envelope>;

  constructor(private readonly group: string) {}

  async restore(ctx: TaskContext): Promise<void> {
    const { jobId, subtaskIndex, attemptNumber } = ctx.tdd;
    this.channel = feedbackChannel(jobId, this.group, subtaskIndex, attemptNumber);
    this.state = ctx.operatorState.getUnionListState<Envelope>("actors.inflight");
    const { keyGroupRange, maxParallelism } = ctx.keyedState;
    for (const e of this.state.get()) if (rangeContains(keyGroupRange, keyGroupFor(addressKey(e.to), maxParallelism))) this.channel.push(e);
  }

  snapshotState(_ctx: TaskContext, checkpointId: number): void {
    this.state.update(this.channel.endLog(checkpointId));
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.channel) await this.restore(ctx);
    const input = ctx.input;
    try {
      for (let b = await input.next(); b !== null; b = await input.next()) {
        const records = b.records;
        for (let i = 0; i < records.length; i++) this.channel.push((records[i] as [string, FeedbackItem])[1]);
        input.recycle(b);
      }
    } finally {
      releaseFeedbackChannel(ctx.tdd.jobId, this.group, ctx.tdd.subtaskIndex, this.channel);
    }
    await ctx.output.finish();
  }
}

/** `eddy.actors.feedback` {group}: hands an actor application's messages back to its actors' subtasks. */
export const actorFeedbackOperator: InvokableFactory = {
  ...defineStreamInvokable<{ group: string }>({
    name: NAME,
    description:
      "The feedback vertex of an actor application over several subtasks: messages for the addresses a subtask owns, handed to the actors' subtask in the same slot; in-flight messages kept in checkpoints. Config {group, inputs}.",
    kind: "sink",
    keys: ["group", "inputs"],
    settings: (config, vertexId) => {
      const group = stringSetting(config, "group", NAME, vertexId);
      if (!/^[A-Za-z0-9_.-]{1,128}$/.test(group)) configError(NAME, vertexId, "config.group must be a co-location group id");
      return { group };
    },
    create: (s) => new ActorFeedback(s.group),
  }),
  iteration: { role: "tail", channel: feedbackGroupOf },
};
