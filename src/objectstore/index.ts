/** Reading JetStream Object Store objects and listings without the push-consumer race of nats.js's own. */
export { readObject, ObjectCorruptError, OBJECT_META_TIMEOUT_MS, transferTimeoutMs, type ReadableObjectInfo } from "./read-object.js";
export { readLastPerSubject } from "./last-per-subject.js";
