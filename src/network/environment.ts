/**
 * NetworkEnvironment: the data-exchange layer of one slot worker thread (Flink's
 * NettyShuffleEnvironment). It creates each task's output (result partitions) and input (gates), picks
 * the link of every channel from the producer's location, and frees an attempt's resources on release.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { InputGateDeploymentDescriptor, ResultPartitionDeploymentDescriptor, TaskLocation } from "../deployment/descriptors.js";
import type { Subjects } from "../rpc/subjects.js";
import { EddyError, ErrorCode, InternalError } from "../core/errors.js";
import { networkConfig, type NetworkConfig } from "./config.js";
import type { ChannelPosition, InputChannel } from "./input-channel.js";
import { InputGate } from "./input-gate.js";
import { UnionInput } from "./union-input.js";
import { LocalInputChannel, ProducerRegistry } from "./local.js";
import type { LocalExchangeClient } from "./local-exchange.js";
import { acceptPort, PortInputChannel } from "./port-link.js";
import { BlockingInputChannel } from "./blocking-input.js";
import { BlockingPublisher } from "./blocking-producer.js";
import { BlockingStore } from "./blocking-store.js";
import { RecordWriterOutput, type OutputOptions } from "./record-writer.js";
import type { IoTimer } from "./io-timer.js";
import { RemoteConsumerEndpoint, RemoteInputChannel, RemoteProducerEndpoint } from "./remote.js";

/** What a {@link NetworkEnvironment} needs. */
export interface NetworkEnvironmentOptions {
  nc: NatsConnection;
  subjects: Subjects;
  /** Where this worker thread is: its TaskExecutor and slot. */
  location: TaskLocation;
  /** The worker side of the process's {@link LocalExchangeBroker}; without it, other slots are reached over NATS. */
  broker?: LocalExchangeClient;
  config?: Partial<NetworkConfig>;
}

/** The kind of link a channel uses ("blocking": read from JetStream, wherever the producer ran). */
export type LinkKind = "local" | "thread" | "remote" | "blocking";

/** Options of {@link NetworkEnvironment.createInput}. */
export interface InputOptions {
  /** The job of the task: required when an input gate reads a BLOCKING result. */
  jobId?: string;
  /** The task's time accounting (waits for input count as idle). */
  timer?: IoTimer;
}

interface ProducerState {
  writer: RecordWriterOutput;
  /** Absent for a task without outputs (a sink). */
  remote: RemoteProducerEndpoint | null;
  /** Present when some output is BLOCKING. */
  blocking: BlockingPublisher | null;
}

interface ConsumerState {
  input: UnionInput;
  remote: RemoteConsumerEndpoint | null;
}

/** The data-exchange layer of one slot worker thread. */
export class NetworkEnvironment {
  readonly cfg: NetworkConfig;
  private readonly registry = new ProducerRegistry();
  private readonly producers = new Map<string, ProducerState>();
  private readonly consumers = new Map<string, ConsumerState>();
  private blockingStore: BlockingStore | null = null;
  private closed = false;

  constructor(private readonly opts: NetworkEnvironmentOptions) {
    this.cfg = networkConfig(opts.config);
  }

  /** The link a channel from a producer at `producer` uses from this thread. */
  linkTo(producer: TaskLocation): LinkKind {
    const me = this.opts.location;
    if (producer.taskExecutorId !== me.taskExecutorId) return "remote";
    if (producer.slotIndex === me.slotIndex) return "local";
    return this.opts.broker ? "thread" : "remote";
  }

  /**
   * Creates and registers the output of producer attempt `producerAttemptId` (reachable by consumers
   * in this thread, in this process and over NATS from now on). BLOCKING outputs are written to the
   * job's JetStream stream instead (`opts.jobId` is required then), and `finish()` resolves once
   * JetStream acknowledged all of it.
   */
  createOutput(producerAttemptId: string, outputs: ResultPartitionDeploymentDescriptor[], opts: OutputOptions): RecordWriterOutput {
    this.checkOpen();
    if (this.producers.has(producerAttemptId)) throw new InternalError(`output of ${producerAttemptId} already exists`);
    const hasBlocking = outputs.some((o) => o.partitionType === "BLOCKING");
    if (hasBlocking && !opts.jobId) throw new InternalError(`output of ${producerAttemptId} has BLOCKING partitions but no jobId`);
    const writer = new RecordWriterOutput(producerAttemptId, outputs, this.cfg, opts);
    if (outputs.length === 0) {
      this.producers.set(producerAttemptId, { writer, remote: null, blocking: null });
      return writer;
    }
    let blocking: BlockingPublisher | null = null;
    if (hasBlocking) {
      blocking = new BlockingPublisher(this.store(), opts.jobId!, producerAttemptId, writer, this.cfg);
      for (const p of writer.partitions) if (p.desc.partitionType === "BLOCKING") blocking.attach(p);
    }
    const remote = new RemoteProducerEndpoint(this.opts.nc, this.opts.subjects, writer, this.cfg);
    writer.afterEnd = async () => {
      await remote.flush();
      if (blocking) await blocking.drained();
    };
    this.producers.set(producerAttemptId, { writer, remote, blocking });
    this.registry.register(writer);
    this.opts.broker?.registerProducer(producerAttemptId, (port) => acceptPort(port, writer, this.cfg));
    return writer;
  }

  /**
   * Creates the input of consumer attempt `consumerAttemptId` and starts connecting its channels.
   * Channels of a BLOCKING gate read the job's JetStream stream (`opts.jobId` is required then).
   */
  createInput(consumerAttemptId: string, inputs: InputGateDeploymentDescriptor[], signal?: AbortSignal, opts: InputOptions = {}): UnionInput {
    this.checkOpen();
    if (this.consumers.has(consumerAttemptId)) throw new InternalError(`input of ${consumerAttemptId} already exists`);
    if (!opts.jobId && inputs.some((g) => g.partitionType === "BLOCKING")) {
      throw new InternalError(`input of ${consumerAttemptId} reads BLOCKING partitions but has no jobId`);
    }
    const input = new UnionInput(consumerAttemptId, signal, opts.timer);
    const state: ConsumerState = { input, remote: null };
    this.consumers.set(consumerAttemptId, state);
    let id = 0;
    inputs.forEach((g, gi) => {
      const gate = new InputGate(gi, g, this.cfg.floatingCreditsPerGate);
      input.gates.push(gate);
      g.channels.forEach((desc, ci) => {
        const pos: ChannelPosition = { gate: gi, index: ci, id: id++, resultId: g.resultId, desc, credits: this.cfg.creditsPerChannel };
        let ch: InputChannel;
        switch (g.partitionType === "BLOCKING" ? "blocking" : this.linkTo(desc.location)) {
          case "blocking":
            ch = new BlockingInputChannel(input, pos, this.store(), opts.jobId!);
            break;
          case "local":
            ch = new LocalInputChannel(input, pos, this.registry, this.cfg);
            break;
          case "thread":
            ch = new PortInputChannel(input, pos, this.opts.broker!, this.cfg);
            break;
          default:
            state.remote ??= new RemoteConsumerEndpoint(this.opts.nc, this.opts.subjects, consumerAttemptId, this.cfg);
            ch = new RemoteInputChannel(input, pos, state.remote);
        }
        gate.channels.push(ch);
        input.channels.push(ch);
      });
    });
    for (const ch of input.channels) ch.start();
    return input;
  }

  /** Frees everything of attempt `attemptId` (as producer and as consumer): subscriptions, timers, buffers, links. */
  release(attemptId: string): void {
    const p = this.producers.get(attemptId);
    if (p) {
      this.producers.delete(attemptId);
      this.registry.unregister(attemptId);
      this.opts.broker?.unregisterProducer(attemptId);
      p.remote?.close();
      p.writer.release();
      p.blocking?.close();
    }
    const c = this.consumers.get(attemptId);
    if (c) {
      this.consumers.delete(attemptId);
      c.input.release();
      c.remote?.close();
    }
  }

  /**
   * True when `attemptId` exchanges data over NATS with another TaskExecutor (or worker): a consumer
   * with remote input channels still open, or a producer with a consumer attached over NATS. Such links lose
   * buffers and credits when the connection loses its server; nothing else here does.
   */
  usesRemoteLinks(attemptId: string): boolean {
    return this.consumers.get(attemptId)?.remote?.open === true || this.producers.get(attemptId)?.remote?.hasViews === true;
  }

  /** Attempt ids with resources here. */
  attempts(): string[] {
    return [...new Set([...this.producers.keys(), ...this.consumers.keys()])];
  }

  /** Releases every attempt. The NATS connection and broker client stay open (they belong to the caller). */
  close(): void {
    for (const a of this.attempts()) this.release(a);
    this.closed = true;
  }

  /** The publisher of `producerAttemptId`'s BLOCKING outputs, if it has some (for stats). */
  blockingPublisher(producerAttemptId: string): BlockingPublisher | null {
    return this.producers.get(producerAttemptId)?.blocking ?? null;
  }

  private store(): BlockingStore {
    return (this.blockingStore ??= new BlockingStore(this.opts.nc, this.opts.subjects, this.cfg));
  }

  private checkOpen(): void {
    if (this.closed) throw new EddyError(ErrorCode.Shutdown, "the network environment is closed");
  }
}
