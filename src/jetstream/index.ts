/**
 * JetStream helpers shared by the HA stores, the state storage and the network's blocking store:
 * what a NATS or JetStream failure means (by nats.js's typed errors), retrying what a busy or
 * leader-electing JetStream refuses, and listing a stream's last message per subject without the
 * push-consumer race of nats.js's `kv.keys()` and `ObjectStore.list()`.
 */
export { retryTransient } from "./transient.js";
export { isConsumerNotFound, isNoResponders, isRevisionConflict, isStreamNotFound, isTimeout, isTransient, type TransientOptions } from "./nats-errors.js";
export { readLastPerSubject } from "./last-per-subject.js";
