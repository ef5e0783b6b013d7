/**
 * The cross-thread link's rendezvous: a {@link LocalExchangeBroker} in the process's main thread and
 * a {@link LocalExchangeClient} in each slot worker thread. A consumer asks the broker for a channel to
 * producer attempt X; once X's worker has registered X, the broker creates a MessageChannel and
 * transfers one port to each worker. Data then flows port to port, never through the main thread.
 */
import { MessageChannel, workerData, type MessagePort } from "node:worker_threads";
import { NotFoundError, ErrorCode } from "../core/errors.js";

/** Worker → broker messages. */
type ClientMsg = { t: "reg"; a: string } | { t: "unreg"; a: string } | { t: "conn"; id: number; a: string } | { t: "cancel"; id: number };

/** Broker → worker messages. */
type BrokerMsg = { t: "port"; id: number; port: MessagePort } | { t: "accept"; a: string; port: MessagePort };

/** Lives in the TaskExecutor's main thread; links the slot workers' producers and consumers. */
export class LocalExchangeBroker {
  private readonly workers = new Set<MessagePort>();
  private readonly producers = new Map<string, MessagePort>();
  private readonly pending = new Map<string, Array<{ worker: MessagePort; id: number }>>();

  /** Adds a worker: returns the port to transfer to it (pass it to its {@link LocalExchangeClient}). */
  connectWorker(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.workers.add(port1);
    port1.on("message", (m: ClientMsg) => this.onMessage(port1, m));
    port1.on("close", () => this.dropWorker(port1));
    port1.unref();
    return port2;
  }

  /** Same as {@link connectWorker}, for the worker of slot `slotIndex` (transfer the port in its workerData as `brokerPort`). */
  portFor(slotIndex: number): MessagePort {
    void slotIndex;
    return this.connectWorker();
  }

  /** Number of producer attempts currently registered (for tests and metrics). */
  get producerCount(): number {
    return this.producers.size;
  }

  /** Closes every worker port. */
  close(): void {
    for (const w of this.workers) w.close();
    this.workers.clear();
    this.producers.clear();
    this.pending.clear();
  }

  private onMessage(worker: MessagePort, m: ClientMsg): void {
    switch (m.t) {
      case "reg": {
        this.producers.set(m.a, worker);
        const waiting = this.pending.get(m.a);
        if (waiting) {
          this.pending.delete(m.a);
          for (const w of waiting) this.link(w.worker, w.id, worker, m.a);
        }
        break;
      }
      case "unreg":
        if (this.producers.get(m.a) === worker) this.producers.delete(m.a);
        break;
      case "conn": {
        const producer = this.producers.get(m.a);
        if (producer) this.link(worker, m.id, producer, m.a);
        else {
          let list = this.pending.get(m.a);
          if (!list) this.pending.set(m.a, (list = []));
          list.push({ worker, id: m.id });
        }
        break;
      }
      case "cancel":
        for (const [a, list] of this.pending) {
          const i = list.findIndex((e) => e.worker === worker && e.id === m.id);
          if (i >= 0) {
            list.splice(i, 1);
            if (list.length === 0) this.pending.delete(a);
            break;
          }
        }
        break;
    }
  }

  private link(consumer: MessagePort, id: number, producer: MessagePort, attemptId: string): void {
    const { port1, port2 } = new MessageChannel();
    producer.postMessage({ t: "accept", a: attemptId, port: port2 } satisfies BrokerMsg, [port2]);
    consumer.postMessage({ t: "port", id, port: port1 } satisfies BrokerMsg, [port1]);
  }

  private dropWorker(worker: MessagePort): void {
    this.workers.delete(worker);
    for (const [a, w] of this.producers) if (w === worker) this.producers.delete(a);
    for (const [a, list] of this.pending) {
      const rest = list.filter((e) => e.worker !== worker);
      if (rest.length === 0) this.pending.delete(a);
      else this.pending.set(a, rest);
    }
  }
}

/** A pending connection request of {@link LocalExchangeClient.connect}. */
export interface PendingConnect {
  promise: Promise<MessagePort>;
  /** Gives up (the port, if it arrives later, is closed). */
  cancel(): void;
}

/** The worker-side end of the broker. */
export class LocalExchangeClient {
  private nextId = 1;
  private readonly requests = new Map<number, { resolve(p: MessagePort): void; reject(e: unknown): void; timer: NodeJS.Timeout }>();
  private readonly acceptors = new Map<string, (port: MessagePort) => void>();

  /** `port` is the one {@link LocalExchangeBroker.connectWorker} returned, transferred to this thread. */
  constructor(private readonly port: MessagePort) {
    port.on("message", (m: BrokerMsg) => this.onMessage(m));
    port.unref();
  }

  /** Makes producer `attemptId` reachable; `onPort` receives each consumer's port. */
  registerProducer(attemptId: string, onPort: (port: MessagePort) => void): void {
    this.acceptors.set(attemptId, onPort);
    this.send({ t: "reg", a: attemptId });
  }

  /** Stops accepting consumers for `attemptId`. */
  unregisterProducer(attemptId: string): void {
    if (!this.acceptors.delete(attemptId)) return;
    this.send({ t: "unreg", a: attemptId });
  }

  /** Asks for a port to producer `attemptId`; rejects with PartitionNotFound after `timeoutMs`. */
  connect(attemptId: string, timeoutMs: number): PendingConnect {
    const id = this.nextId++;
    let cancel: () => void = () => undefined;
    const promise = new Promise<MessagePort>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(id);
        this.send({ t: "cancel", id });
        reject(new NotFoundError(ErrorCode.PartitionNotFound, `producer ${attemptId} did not register in this TaskExecutor within ${timeoutMs} ms`));
      }, timeoutMs);
      this.requests.set(id, { resolve, reject, timer });
      cancel = () => {
        const r = this.requests.get(id);
        if (!r) return;
        clearTimeout(r.timer);
        this.requests.delete(id);
        this.send({ t: "cancel", id });
      };
    });
    this.send({ t: "conn", id, a: attemptId });
    return { promise, cancel };
  }

  /** Closes the port to the broker. */
  close(): void {
    for (const r of this.requests.values()) clearTimeout(r.timer);
    this.requests.clear();
    this.acceptors.clear();
    this.port.close();
  }

  private send(m: ClientMsg): void {
    try {
      this.port.postMessage(m);
    } catch {
      // closed
    }
  }

  private onMessage(m: BrokerMsg): void {
    if (m.t === "port") {
      const r = this.requests.get(m.id);
      if (!r) {
        m.port.close();
        return;
      }
      clearTimeout(r.timer);
      this.requests.delete(m.id);
      r.resolve(m.port);
    } else {
      const accept = this.acceptors.get(m.a);
      if (accept) accept(m.port);
      else m.port.close();
    }
  }
}

/**
 * In a slot worker thread: the client of the broker whose port was transferred as `workerData.brokerPort`
 * (or the given `port`); undefined when there is none (then other slots are reached over NATS).
 */
export function connectWorkerToBroker(slotIndex?: number, port?: MessagePort): LocalExchangeClient | undefined {
  void slotIndex;
  const p = port ?? (workerData as { brokerPort?: MessagePort } | null)?.brokerPort;
  return p ? new LocalExchangeClient(p) : undefined;
}
