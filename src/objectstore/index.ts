/** Reading JetStream Object Store objects without the push-consumer race of nats.js's own reader. */
export { readObject, ObjectCorruptError, OBJECT_META_TIMEOUT_MS, transferTimeoutMs, type ReadableObjectInfo } from "./read-object.js";
