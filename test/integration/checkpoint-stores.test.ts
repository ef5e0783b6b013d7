/**
 * The HA checkpoint stores over a real nats-server: the checkpoint id counter (CAS, shared by two
 * clients, monotonic across reopen), the completed checkpoint store (retain 1 and 3 subsumption
 * proven by listing the Object Store, retried deletions, shutdown globally terminal or suspended)
 * and the savepoint store (add/get/list/dispose, untouched by a job's shutdown); none of their
 * deletions is a stream purge.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { ConflictError, ErrorCode, InternalError, NotFoundError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
import { encode } from "../../src/codec/codec.js";
import { listKeys, openBucket, removeKey, removeKeys, type KV } from "../../src/ha/kv.js";
import {
  CheckpointIdCounter,
  CheckpointStorage,
  CompletedCheckpointStore,
  SavepointStore,
  checkpointObjectName,
  sweepCheckpointKeys,
  newSavepointId,
  savepointObjectName,
  type CompletedCheckpoint,
  type Savepoint,
} from "../../src/checkpoint/index.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { lastPerSubjectAtLeader, sequencesAtLeader, type ListedMessage } from "../../src/jetstream/leader-view.js";
import { readLastPerSubject } from "../../src/jetstream/index.js";

let nats: TestNats;
let nc: NatsConnection;
let nc2: NatsConnection;
let storage: CheckpointStorage;
let kv: KV;
const subjects = new Subjects("eddy-test-ckpt");
const log = silentLogger();

before(async () => {
  nats = await startTestNats({ jetstream: true });
  nc = await connectNats(nats.url, "checkpoint-stores-a");
  nc2 = await connectNats(nats.url, "checkpoint-stores-b");
  storage = await CheckpointStorage.open(nc, subjects);
  kv = await openBucket(nc, subjects.bucket("checkpoints"));
});
after(async () => {
  await nc.close();
  await nc2.close();
  await nats.stop();
});

/** Writes the state of a 2-vertex job (parallelism 2) for checkpoint `id` and answers its metadata. */
async function checkpoint(jobId: string, id: number): Promise<CompletedCheckpoint> {
  const vertices: CompletedCheckpoint["vertices"] = {};
  let bytes = 0;
  for (const v of ["src", "sum"]) {
    const subtasks = [];
    for (let s = 0; s < 2; s++) {
      const keyed = await storage.write(checkpointObjectName(jobId, id, v, s, "keyed"), new Uint8Array(100 + s).fill(id));
      const operator = await storage.write(checkpointObjectName(jobId, id, v, s, "operator"), new Uint8Array(10).fill(s));
      bytes += keyed.bytes + operator.bytes;
      subtasks.push({
        operators: {
          [v]: {
            keyed: { ...keyed, keyGroupRange: { start: s * 64, end: s * 64 + 63 }, maxParallelism: 128 },
            operator: { ...operator, states: { offsets: "SPLIT_DISTRIBUTE" as const } },
          },
        },
      });
    }
    vertices[v] = { parallelism: 2, maxParallelism: 128, subtasks };
  }
  return { jobId, checkpointId: id, kind: "CHECKPOINT", timestamp: 1000 * id, completedAt: 1000 * id + 5, formatVersion: 1, vertices, bytes };
}

async function savepoint(jobId: string): Promise<Savepoint> {
  const savepointId = newSavepointId();
  const h = await storage.write(savepointObjectName(savepointId, "sum", 0, "keyed"), new Uint8Array([1, 2, 3]));
  const vertices = {
    sum: {
      parallelism: 1,
      maxParallelism: 128,
      subtasks: [{ operators: { sum: { keyed: { ...h, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128 } } } }],
    },
  };
  return { jobId, savepointId, checkpointId: 42, kind: "SAVEPOINT", timestamp: Date.now(), completedAt: Date.now(), formatVersion: 1, vertices, bytes: 3 };
}

const objectsOf = async (prefix: string): Promise<string[]> => (await storage.list(prefix)).map((o) => o.name);
const keysOf = async (prefix: string): Promise<string[]> => (await listKeys(kv)).filter((k) => k.startsWith(prefix)).sort();

test("the id counter starts at 1, advances by CAS and survives a reopen on another connection", async () => {
  const c = await CheckpointIdCounter.open(nc, subjects, "jobCounter");
  assert.equal(await c.get(), 1);
  assert.equal(await c.getAndIncrement(), 1);
  assert.equal(await c.getAndIncrement(), 2);
  assert.equal(await c.get(), 3);
  const again = await CheckpointIdCounter.open(nc2, subjects, "jobCounter");
  assert.equal(await again.getAndIncrement(), 3, "a new JobMaster continues where the old one stopped");
  await again.setCount(10);
  await again.setCount(5);
  assert.equal(await c.getAndIncrement(), 10, "setCount never lowers the counter");
  await c.remove();
  assert.deepEqual(await keysOf("jobCounter."), []);
});

test("a counter shared by two clients never hands out the same id twice", async () => {
  const a = await CheckpointIdCounter.open(nc, subjects, "jobShared");
  const b = await CheckpointIdCounter.open(nc2, subjects, "jobShared");
  const per = 60;
  const ids = await Promise.all([...Array.from({ length: per }, () => a.getAndIncrement()), ...Array.from({ length: per }, () => b.getAndIncrement())]);
  assert.equal(new Set(ids).size, 2 * per, "all distinct");
  assert.deepEqual(
    [...ids].sort((x, y) => x - y),
    Array.from({ length: 2 * per }, (_, i) => i + 1),
    "exactly 1..n",
  );
  assert.equal(await a.get(), 2 * per + 1);
});

test("retain 1: adding checkpoint 2 subsumes 1, removing its key and its objects", async () => {
  const store = await CompletedCheckpointStore.open(nc, subjects, "jobR1", { logger: log });
  assert.equal(await store.latest(), undefined);
  const cp1 = await checkpoint("jobR1", 1);
  await store.add(cp1, storage);
  assert.deepEqual(await store.latest(), cp1);
  assert.equal((await objectsOf("jobR1/chk-1/")).length, 8);
  const cp2 = await checkpoint("jobR1", 2);
  await store.add(cp2, storage);
  await store.awaitDiscards();
  assert.deepEqual(await store.latest(), cp2);
  assert.deepEqual(
    (await store.all()).map((c) => c.checkpointId),
    [2],
  );
  assert.deepEqual(await objectsOf("jobR1/chk-1/"), [], "the subsumed checkpoint's objects are gone");
  assert.equal((await objectsOf("jobR1/")).length, 8, "only checkpoint 2's objects are left");
  assert.deepEqual(await keysOf("jobR1."), ["jobR1.chk.2", "jobR1.latest"]);
  assert.deepEqual(await store.pendingDiscards(), []);
  // The same checkpoint again is a no-op; other contents under its id are refused.
  await store.add(cp2, storage);
  await assert.rejects(store.add({ ...cp2, bytes: 1 }, storage), (e: unknown) => e instanceof ConflictError && e.code === ErrorCode.DuplicateCheckpoint);
  await assert.rejects(store.add({ ...cp2, jobId: "other" }, storage), InternalError);
  await store.shutdown(true, storage);
});

test("subsuming keeps the checkpoint the latest pointer names, whatever newer entry has no pointer yet", async () => {
  // An add whose entry landed but whose pointer write is still in flight (or failed) leaves a newer
  // entry than the pointer; a background subsume running then must count only up to the pointer.
  const store = await CompletedCheckpointStore.open(nc, subjects, "jobAhead", { logger: log });
  await store.add(await checkpoint("jobAhead", 1), storage);
  const cp3 = await checkpoint("jobAhead", 3);
  await kv.create("jobAhead.chk.3", encode(cp3));
  const cp2 = await checkpoint("jobAhead", 2);
  await store.add(cp2, storage);
  await store.awaitDiscards();
  assert.deepEqual(await store.latest(), cp2, "the checkpoint the pointer names is still there");
  assert.deepEqual(
    (await store.all()).map((c) => c.checkpointId),
    [2, 3],
    "1 subsumed; 3, beyond the pointer, untouched",
  );
  assert.equal((await objectsOf("jobAhead/chk-2/")).length, 8);
  assert.equal((await objectsOf("jobAhead/chk-3/")).length, 8);
  assert.deepEqual(await objectsOf("jobAhead/chk-1/"), []);
  await store.add(cp3, storage);
  await store.awaitDiscards();
  assert.deepEqual(
    (await store.all()).map((c) => c.checkpointId),
    [3],
    "once 3's pointer is written, 2 is subsumed",
  );
  await store.shutdown(true, storage);
});

test("adds run in call order and the latest pointer only moves forward: an older checkpoint added after a newer one is subsumed", async () => {
  const store = await CompletedCheckpointStore.open(nc, subjects, "jobOrder", { logger: log });
  const [cp1, cp2, cp3] = await Promise.all([checkpoint("jobOrder", 1), checkpoint("jobOrder", 2), checkpoint("jobOrder", 3)]);
  await Promise.all([store.add(cp1, storage), store.add(cp3, storage), store.add(cp2, storage)]);
  await store.awaitDiscards();
  assert.deepEqual(await store.latest(), cp3, "the newest stays the latest");
  assert.deepEqual(
    (await store.all()).map((c) => c.checkpointId),
    [3],
    "1 and 2 subsumed",
  );
  assert.deepEqual(await objectsOf("jobOrder/chk-2/"), []);
  await store.shutdown(true, storage);
});

test("a store of a former leader's JobMaster (a zombie) never moves the latest pointer back", async () => {
  const current = await CompletedCheckpointStore.open(nc, subjects, "jobZombie", { logger: log });
  const zombie = await CompletedCheckpointStore.open(nc2, subjects, "jobZombie", { logger: log });
  await current.add(await checkpoint("jobZombie", 5), storage);
  await zombie.add(await checkpoint("jobZombie", 3), storage);
  assert.equal((await current.latest())?.checkpointId, 5, "the newer leader's checkpoint stays the latest");
  const next = await CompletedCheckpointStore.open(nc2, subjects, "jobZombie", { logger: log });
  assert.equal((await next.latest())?.checkpointId, 5, "a JobMaster recovering the job restores the newest");
  await current.shutdown(true, storage);
});

test("a store whose JobManager no longer leads writes neither the checkpoint nor the latest pointer", async () => {
  const store = await CompletedCheckpointStore.open(nc, subjects, "jobFormer", { logger: log });
  await assert.rejects(
    store.add(await checkpoint("jobFormer", 1), storage, () => false),
    (err: Error & { code?: string }) => err.code === ErrorCode.NotLeader,
  );
  assert.deepEqual(await keysOf("jobFormer."), [], "nothing written: after the job's end it would be a leak");
  await store.shutdown(true, storage);
});

test("retain 3 keeps the newest three; a reopened store (new JobMaster) sees them", async () => {
  const store = await CompletedCheckpointStore.open(nc, subjects, "jobR3", { retain: 3, logger: log });
  for (let id = 1; id <= 5; id++) await store.add(await checkpoint("jobR3", id), storage);
  await store.awaitDiscards();
  assert.deepEqual(
    (await store.all()).map((c) => c.checkpointId),
    [3, 4, 5],
  );
  assert.deepEqual([...new Set((await objectsOf("jobR3/")).map((n) => n.split("/")[1]))], ["chk-3", "chk-4", "chk-5"]);
  await store.shutdown(false, storage);
  const reopened = await CompletedCheckpointStore.open(nc2, subjects, "jobR3", { retain: 3, logger: log });
  assert.equal((await reopened.latest())?.checkpointId, 5);
  await reopened.add(await checkpoint("jobR3", 6), storage);
  await reopened.awaitDiscards();
  assert.deepEqual(
    (await reopened.all()).map((c) => c.checkpointId),
    [4, 5, 6],
  );
  await reopened.shutdown(true, storage);
});

test("a failed deletion is kept, logged and retried until it succeeds", async () => {
  let failures = 2;
  const warnings: string[] = [];
  const flaky = Object.create(storage) as CheckpointStorage;
  flaky.deletePrefix = async (prefix: string) => {
    if (failures > 0) {
      failures--;
      throw new Error("object store unavailable");
    }
    return storage.deletePrefix(prefix);
  };
  const logger = silentLogger();
  logger.warn = ((_o: unknown, msg: string) => void warnings.push(msg)) as typeof logger.warn;
  const store = await CompletedCheckpointStore.open(nc, subjects, "jobFlaky", { logger, retryDelayMs: 300 });
  await store.add(await checkpoint("jobFlaky", 1), flaky);
  await store.add(await checkpoint("jobFlaky", 2), flaky);
  await store.awaitDiscards();
  assert.deepEqual(await store.pendingDiscards(), [1], "recorded as pending in KV");
  assert.equal((await objectsOf("jobFlaky/chk-1/")).length, 8);
  assert.equal(warnings.length, 1);
  for (let i = 0; i < 100 && (await store.pendingDiscards()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  await store.awaitDiscards();
  assert.deepEqual(await store.pendingDiscards(), []);
  assert.deepEqual(await objectsOf("jobFlaky/chk-1/"), []);
  assert.equal(warnings.length, 2, "each failure logged");
  await store.shutdown(true, storage);
});

test("a deletion left pending by a dead JobMaster is done by the next one", async () => {
  const dead = Object.create(storage) as CheckpointStorage;
  dead.deletePrefix = async () => {
    throw new Error("gone");
  };
  const first = await CompletedCheckpointStore.open(nc, subjects, "jobHandover", { logger: log, retryDelayMs: 60_000 });
  await first.add(await checkpoint("jobHandover", 1), dead);
  await first.add(await checkpoint("jobHandover", 2), dead);
  await first.awaitDiscards();
  await first.shutdown(false, storage);
  assert.deepEqual(await keysOf("jobHandover."), ["jobHandover.chk.2", "jobHandover.discard.1", "jobHandover.latest"]);
  const next = await CompletedCheckpointStore.open(nc2, subjects, "jobHandover", { logger: log, storage });
  await next.awaitDiscards();
  assert.deepEqual(await keysOf("jobHandover."), ["jobHandover.chk.2", "jobHandover.latest"]);
  assert.deepEqual(await objectsOf("jobHandover/chk-1/"), []);
  await next.shutdown(true, storage);
});

test("shutdown(true) leaves nothing of the job; shutdown(false) leaves everything; savepoints untouched", async () => {
  const spStore = await SavepointStore.open(nc, subjects);
  const sp = await savepoint("jobEnd");
  await spStore.add(sp);
  const counter = await CheckpointIdCounter.open(nc, subjects, "jobEnd");
  const store = await CompletedCheckpointStore.open(nc, subjects, "jobEnd", { retain: 2, logger: log });
  for (let i = 0; i < 3; i++) await store.add(await checkpoint("jobEnd", await counter.getAndIncrement()), storage);
  // An aborted checkpoint's leftover object (never in the store's metadata).
  await storage.write(checkpointObjectName("jobEnd", 4, "src", 0, "keyed"), new Uint8Array(5));
  // Another job with a similar id must not be touched.
  const otherStore = await CompletedCheckpointStore.open(nc, subjects, "jobEnd2", { logger: log });
  await otherStore.add(await checkpoint("jobEnd2", 1), storage);
  await store.awaitDiscards();

  await store.shutdown(false, storage);
  const objectsBefore = await objectsOf("jobEnd/");
  assert.equal(objectsBefore.length, 17);
  assert.deepEqual(await keysOf("jobEnd."), ["jobEnd.chk.2", "jobEnd.chk.3", "jobEnd.counter", "jobEnd.latest"]);
  await assert.rejects(store.add(await checkpoint("jobEnd", 9), storage), /shut down/);

  const recovered = await CompletedCheckpointStore.open(nc2, subjects, "jobEnd", { retain: 2, logger: log });
  assert.equal((await recovered.latest())?.checkpointId, 3);
  await recovered.shutdown(true, storage);
  assert.deepEqual(await keysOf("jobEnd."), [], "no checkpoint, pending deletion or counter key");
  assert.deepEqual(await objectsOf("jobEnd/"), [], "no object of the job, aborted ones included");
  assert.equal(await (await CheckpointIdCounter.open(nc, subjects, "jobEnd")).get(), 1);
  assert.deepEqual(await keysOf("jobEnd2."), ["jobEnd2.chk.1", "jobEnd2.latest"]);
  assert.equal((await objectsOf("jobEnd2/")).length, 8);
  assert.deepEqual(await spStore.get(sp.savepointId), sp);
  assert.deepEqual(await objectsOf(`savepoints/${sp.savepointId}/`), [`savepoints/${sp.savepointId}/sum-0-keyed`]);
  await otherStore.shutdown(true, storage);
  await spStore.dispose(sp.savepointId, storage);
});

test("savepoints: add, get, list, dispose", async () => {
  const spStore = await SavepointStore.open(nc, subjects);
  assert.match(newSavepointId(), /^sp-[0-9a-f]{16}$/);
  assert.notEqual(newSavepointId(), newSavepointId());
  const a = await savepoint("jobSp");
  const b = { ...(await savepoint("jobSp")), completedAt: a.completedAt + 1 };
  await spStore.add(a);
  await spStore.add(b);
  await spStore.add(a);
  await assert.rejects(spStore.add({ ...a, bytes: 99 }), ConflictError);
  await assert.rejects(spStore.add({ ...a, savepointId: "sp-x", kind: "CHECKPOINT" }), InternalError);
  assert.deepEqual(await spStore.get(a.savepointId), a);
  assert.equal(await spStore.get("sp-none"), undefined);
  assert.deepEqual(
    (await spStore.list()).map((s) => s.savepointId),
    [a.savepointId, b.savepointId],
  );
  const data = await storage.read(a.vertices.sum!.subtasks[0]!.operators.sum!.keyed!);
  assert.deepEqual([...data], [1, 2, 3]);

  await spStore.dispose(a.savepointId, storage);
  assert.equal(await spStore.get(a.savepointId), undefined);
  assert.deepEqual(await objectsOf(`savepoints/${a.savepointId}/`), []);
  assert.deepEqual(
    (await spStore.list()).map((s) => s.savepointId),
    [b.savepointId],
  );
  await assert.rejects(spStore.dispose(a.savepointId, storage), (e: unknown) => e instanceof NotFoundError && e.code === ErrorCode.SavepointNotFound);
  await spStore.dispose(b.savepointId, storage);
  assert.deepEqual(await spStore.list(), []);
  assert.deepEqual(await objectsOf("savepoints/"), []);
});

test("latest() follows the latest pointer and refuses to answer 'none' when the checkpoint it names cannot be read", async () => {
  const store = await CompletedCheckpointStore.open(nc, subjects, "jobPtr", { logger: log });
  const cp1 = await checkpoint("jobPtr", 1);
  await store.add(cp1, storage);
  assert.deepEqual(await keysOf("jobPtr."), ["jobPtr.chk.1", "jobPtr.latest"]);
  assert.deepEqual(await store.latest(), cp1);
  // A newer entry the pointer does not name (its recording failed half-way; its state may be gone) is not restored.
  await kv.create("jobPtr.chk.2", encode(await checkpoint("jobPtr", 2)));
  assert.deepEqual(await store.latest(), cp1);
  await kv.purge("jobPtr.chk.2");
  // The entry the pointer names is gone (as a listing that missed it would see): an error, not "start over".
  await kv.purge("jobPtr.chk.1");
  await assert.rejects(store.latest(), (err: Error & { code?: string }) => /checkpoint 1, the latest/.test(err.message));
  await store.shutdown(true, storage);
  assert.equal(await store.latest().catch(() => "closed"), undefined, "after a globally terminal shutdown there is no checkpoint and no pointer");
});

test("listKeys gives every live key of a bucket, beyond one batch, and none that was deleted or purged", async () => {
  const b = await openBucket(nc, new Subjects("eddy-test-listing").bucket("jobgraphs"));
  assert.deepEqual(await listKeys(b), [], "an empty bucket");
  const keys = Array.from({ length: 1_500 }, (_, i) => `job.${String(i).padStart(4, "0")}`);
  await Promise.all(keys.map((k) => b.put(k, "v")));
  await b.put("job.0007", "again"); // a second revision lists once
  await b.delete("job.0001");
  await b.purge("job.0002");
  const listed = await listKeys(b);
  assert.equal(listed.length, 1_498);
  assert.deepEqual(new Set(listed), new Set(keys.filter((k) => k !== "job.0001" && k !== "job.0002")));
});

test("no deletion of the stores is a stream purge, and a removed key or object leaves no message behind", async () => {
  // A filtered purge is replayed wrongly by a recovering replica of nats-server 2.9 (it drops every
  // older message of the stream): the stores delete message by message instead.
  const purges: string[] = [];
  const sub = nc.subscribe("$JS.API.STREAM.PURGE.>", { callback: (_e, m) => void purges.push(m.subject) });
  await nc.flush();
  const jsm = await jetstreamManager(nc);
  const kvStream = `KV_${subjects.bucket("checkpoints")}`;
  const objStream = `OBJ_${storage.bucket}`;
  const messagesOn = async (stream: string, filter: string): Promise<number> =>
    Object.values((await jsm.streams.info(stream, { subjects_filter: filter })).state.subjects ?? {}).reduce((a, n) => a + n, 0);
  const chunksBefore = await messagesOn(objStream, `$O.${storage.bucket}.C.>`);

  const counter = await CheckpointIdCounter.open(nc, subjects, "jobNoPurge");
  const store = await CompletedCheckpointStore.open(nc, subjects, "jobNoPurge", { logger: log, storage });
  for (let i = 0; i < 3; i++) await store.add(await checkpoint("jobNoPurge", await counter.getAndIncrement()), storage);
  await store.awaitDiscards();
  assert.deepEqual(await keysOf("jobNoPurge."), ["jobNoPurge.chk.3", "jobNoPurge.counter", "jobNoPurge.latest"], "subsumed entries and markers removed");
  // An object written again under its name: the old chunks go.
  const again = checkpointObjectName("jobNoPurge", 3, "src", 0, "keyed");
  await storage.write(again, new Uint8Array(300_000).fill(7));
  // A write whose source fails after two chunks: its chunks go.
  let served = 0;
  await assert.rejects(
    storage.writeStream(checkpointObjectName("jobNoPurge", 4, "src", 0, "keyed"), {
      read: (n) => {
        if (served++ === 2) throw new Error("serializer failed");
        return [new Uint8Array(n)];
      },
      cancel: () => undefined,
    }),
    /serializer failed/,
  );
  await store.shutdown(true, storage);
  await counter.remove();
  const spStore = await SavepointStore.open(nc, subjects);
  const sp = await savepoint("jobNoPurge");
  await spStore.add(sp);
  await spStore.dispose(sp.savepointId, storage);
  await nc.flush();
  sub.unsubscribe();

  assert.deepEqual(purges, [], "no purge request");
  assert.equal(await messagesOn(kvStream, `$KV.${subjects.bucket("checkpoints")}.jobNoPurge.>`), 0, "no key message or marker of the job");
  assert.equal(await messagesOn(kvStream, `$KV.${subjects.bucket("checkpoints")}.savepoint.${sp.savepointId}`), 0, "no savepoint message or marker");
  assert.deepEqual(await objectsOf("jobNoPurge/"), []);
  assert.equal(await messagesOn(objStream, `$O.${storage.bucket}.C.>`), chunksBefore, "no chunk of a deleted, replaced or failed object");
});

test("removeKey deletes a key's message by revision, false when there is none; removeKeys deletes values and markers", async () => {
  await kv.put("rk.a", encode(1));
  await kv.put("rk.b", encode(2));
  await kv.delete("rk.c");
  assert.equal(await removeKey(kv, "rk.a"), true);
  assert.equal(await kv.get("rk.a"), null, "absent, no marker");
  assert.equal(await removeKey(kv, "rk.a"), false);
  assert.equal(await removeKeys(kv, "rk.>"), 2, "the value of rk.b and the marker of rk.c");
  assert.equal(await kv.get("rk.b"), null);
  assert.equal(await kv.get("rk.c"), null);
  assert.equal(await removeKeys(kv, "rk.>"), 0);
});

test("a listing short of what the stream leader holds (a replica behind it) is completed from the leader", async () => {
  const name = new Subjects("eddy-test-leader-view").bucket("jobgraphs");
  const b = await openBucket(nc, name, { history: 3 });
  const stream = `KV_${name}`;
  const filter = `$KV.${name}.>`;
  const jsm = await jetstreamManager(nc);
  await b.put("a", "1");
  await b.put("b", "1");
  // The listing a lagging replica gives: made before the leader got c, a second b and a's removal.
  const stale: ListedMessage[] = [];
  await readLastPerSubject(await jsm.jetstream(), stream, filter, { headersOnly: true }, (m) => void stale.push(m));
  await b.put("b", "2");
  await b.put("c", "1");
  await removeKey(b, "a");
  const last = await lastPerSubjectAtLeader(jsm, stream, filter, stale);
  assert.deepEqual(last.map((m) => m.subject.slice(filter.length - 1)).sort(), ["b", "c"], "c added, a dropped");
  const seqs = await sequencesAtLeader(jsm, stream, filter, stale);
  assert.equal(seqs.length, 4, "a's listed message (gone: deleting it finds nothing), both of b, and c");
  assert.deepEqual(
    seqs,
    [...seqs].sort((x, y) => x - y),
  );
  assert.equal(await removeKeys(b, ">"), 3);
  assert.deepEqual(await listKeys(b), []);
});

test("the leader's sweep removes every key of an ended job, and nothing of a running one or of a savepoint", async () => {
  const sp = await savepoint("jobSweepSp");
  await (await SavepointStore.open(nc, subjects)).add(sp);
  // What a former leader's JobMaster writes after the job's end: a counter, a checkpoint, the pointer.
  for (const k of ["jobSweepEnded.counter", "jobSweepEnded.chk.7", "jobSweepEnded.latest", "jobSweepRunning.counter"]) await kv.put(k, encode(7));
  const asked: string[] = [];
  const swept = await sweepCheckpointKeys(nc, subjects, async (jobId) => (asked.push(jobId), jobId === "jobSweepEnded"), log);
  assert.deepEqual(swept, ["jobSweepEnded"]);
  assert.ok(!asked.includes("savepoint"), "savepoints belong to no job");
  assert.deepEqual(await keysOf("jobSweepEnded."), []);
  assert.deepEqual(await keysOf("jobSweepRunning."), ["jobSweepRunning.counter"]);
  assert.deepEqual(await keysOf(`savepoint.${sp.savepointId}`), [`savepoint.${sp.savepointId}`]);
  assert.deepEqual(await sweepCheckpointKeys(nc, subjects, async (jobId) => jobId === "jobSweepEnded", log), [], "nothing left to sweep");
  await removeKeys(kv, "jobSweepRunning.>");
  await (await SavepointStore.open(nc, subjects)).dispose(sp.savepointId, storage);
});
