import { jetstreamManager } from "@nats-io/jetstream";
import { Objm, type ObjectStore, type ObjectStoreOptions } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { openOrCreate } from "../jetstream/index.js";

/**
 * Opens Object Store bucket `name`, creating it with `opts` when absent; a role that may not create
 * it waits for the JobManager to (see openOrCreate). The lookup goes through the stream's info, whose
 * absence nats.js reports as a typed "stream not found" (its own open reports a plain Error).
 */
export async function openObjectStore(nc: NatsConnection, name: string, opts: Partial<ObjectStoreOptions>, timeoutMs?: number): Promise<ObjectStore> {
  const objm = new Objm(nc);
  return openOrCreate(
    async () => {
      await (await jetstreamManager(nc)).streams.info(`OBJ_${name}`);
      return objm.open(name, false);
    },
    () => objm.create(name, opts),
    timeoutMs,
  );
}
