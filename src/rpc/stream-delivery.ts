import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";

/**
 * True for a message a JetStream consumer delivered: its reply subject is the server's ack subject
 * (even without acks), which the server refuses as the reply of a client's own publish.
 */
export function isStreamDelivery(msg: Msg): boolean {
  return msg.reply?.startsWith("$JS.ACK.") === true;
}

/**
 * Subscribes to an Eddy protocol subject, dropping stream deliveries. No Eddy protocol message comes
 * from a stream, and a role that may create consumers (a worker) could point a push consumer at any
 * subject to replay bytes it stored itself, past its publish permissions (docs/security.md).
 */
export function subscribeProtocol(nc: NatsConnection, subject: string, callback: (msg: Msg) => void, opts: { queue?: string } = {}): Subscription {
  return nc.subscribe(subject, {
    ...(opts.queue ? { queue: opts.queue } : {}),
    callback: (err, msg) => {
      if (err || isStreamDelivery(msg)) return;
      callback(msg);
    },
  });
}
