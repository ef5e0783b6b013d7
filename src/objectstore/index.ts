/**
 * Reading JetStream Object Store objects without the push-consumer race of nats.js's own reader, and
 * deleting them by message sequence (never by filtered purge).
 */
export { readObject, ObjectCorruptError, OBJECT_META_TIMEOUT_MS, transferTimeoutMs, type ReadableObjectInfo } from "./read-object.js";
export { openObjectStore } from "./open-object-store.js";
export { deleteObject, deleteObjectChunks, objectMetaSubject, type ChunksOf } from "./delete-object.js";
