import type { SnapshotSource } from "../storage.js";
import type { StateHandle } from "../types.js";

/**
 * What a task writes its snapshots to and restores them from: the worker's CheckpointStorage (the
 * Object Store), or bytes in memory in the in-process test runtime. Only these three calls, so that
 * a task needs no NATS to checkpoint in a test.
 */
export interface SnapshotStorage {
  write(name: string, bytes: Uint8Array): Promise<StateHandle>;
  /** Uploads bytes while `source` produces them (see CheckpointStorage.writeStream). */
  writeStream(name: string, source: SnapshotSource): Promise<StateHandle>;
  read(handle: StateHandle): Promise<Uint8Array>;
}
