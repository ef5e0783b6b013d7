/**
 * The leader's sweep of checkpoint keys that ended jobs left behind. A job's keys (`<jobId>.counter`,
 * `.chk.N`, `.discard.N`, `.latest`) are removed when the job ends, but a JobMaster of a former
 * leader can still write one afterwards: a process frozen with a write under way sends it when it
 * wakes, and a client cut off by a partition flushes its buffered writes when it reconnects, both
 * after it stopped leading. A key-value write cannot be made conditional on the lease, which lives
 * in another stream, so the leader removes such keys: the keys of a job that has a recorded result
 * (it never runs again) and that no JobMaster of this leader runs.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../core/logger.js";
import { removeKeys } from "../ha/kv.js";
import { subjectsAtLeader } from "../jetstream/index.js";
import type { Subjects } from "../rpc/subjects.js";
import { openCheckpointsBucket } from "./checkpoint-id-counter.js";

/** The first token of the bucket's savepoint keys (`savepoint.<id>`), which no job's end removes. */
const SAVEPOINT_TOKEN = "savepoint";

/**
 * Removes every key of each job in the checkpoints bucket for which `ended(jobId)` holds, as the
 * stream leader lists them; answers the ids of the jobs whose keys it removed.
 */
export async function sweepCheckpointKeys(nc: NatsConnection, subjects: Subjects, ended: (jobId: string) => Promise<boolean>, log: Logger): Promise<string[]> {
  const bucket = await openCheckpointsBucket(nc, subjects);
  const prefix = `$KV.${bucket.name}.`;
  const jobIds = new Set<string>();
  for (const subject of (await subjectsAtLeader(await jetstreamManager(nc, { checkAPI: false }), `KV_${bucket.name}`, `${prefix}>`)).keys()) {
    const end = subject.indexOf(".", prefix.length);
    const jobId = end < 0 ? "" : subject.slice(prefix.length, end);
    if (jobId && jobId !== SAVEPOINT_TOKEN) jobIds.add(jobId);
  }
  const swept: string[] = [];
  for (const jobId of jobIds) {
    if (!(await ended(jobId))) continue;
    const keys = await removeKeys(bucket.kv, `${jobId}.>`);
    if (keys === 0) continue;
    swept.push(jobId);
    log.warn({ jobId, keys }, "removed checkpoint keys written after the job ended (by a JobMaster of a former leader)");
  }
  return swept;
}
