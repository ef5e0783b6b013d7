import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/**
 * The payload of every message a JetStream stream holds now, in stream order, read with an ordered
 * consumer in fetches of at most 1,000 (one fetch of everything can end at its expiry on a loaded
 * machine with part of the stream read). Throws, saying how many it read, when the stream is not read
 * whole within `timeoutMs`.
 */
export async function streamPayloads(nc: NatsConnection, stream: string, timeoutMs = 30_000): Promise<Uint8Array[]> {
  const total = (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
  const out: Uint8Array[] = [];
  if (total === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  const deadline = Date.now() + timeoutMs;
  while (out.length < total) {
    if (Date.now() > deadline) throw new Error(`read ${out.length} of the ${total} messages of the stream ${stream} within ${timeoutMs} ms`);
    const batch = await consumer.fetch({ max_messages: Math.min(1_000, total - out.length), expires: 5_000 });
    for await (const m of batch) {
      out.push(m.data);
      if (out.length === total) break;
    }
  }
  return out;
}
