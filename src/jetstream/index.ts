/**
 * JetStream helpers shared by the HA stores, the state storage and the network's blocking store:
 * what a NATS or JetStream failure means (by nats.js's typed errors), retrying what a busy or
 * leader-electing JetStream refuses, listing a stream's last message per subject without the
 * push-consumer race of nats.js's `kv.keys()` and `ObjectStore.list()`, and deleting messages by
 * sequence (never by filtered purge).
 */
export { retryTransient } from "./transient.js";
export { openOrCreate } from "./open-or-create.js";
export {
  isConsumerNotFound,
  isNoResponders,
  isPermissionDenied,
  isRevisionConflict,
  isStreamNotFound,
  isTimeout,
  isTransient,
  type TransientOptions,
} from "./nats-errors.js";
export { readLastPerSubject, sequencesOf } from "./last-per-subject.js";
export { nextBySubject, subjectsAtLeader, type ListedMessage } from "./leader-view.js";
export { deleteMessage, deleteMessages } from "./delete-messages.js";
