/**
 * CheckpointStorage on a three-server NATS cluster whose state stream loses its leader: a write
 * started right after the leader's server is SIGKILLed, a read of an object written before, and a
 * listing, complete once another leader is elected (publishes are retried with message ids, in
 * chunk order), the bytes read back are the bytes written and each chunk is stored once.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { CheckpointStorage, checkpointObjectName } from "../../src/checkpoint/index.js";
import { startTestNatsCluster, type TestNatsCluster } from "../helpers/nats-cluster.js";
import { randomBytesOf } from "../helpers/random-bytes.js";

let nats: TestNatsCluster | undefined;
let nc: NatsConnection | undefined;
after(async () => {
  await nc?.close();
  await nats?.stop();
});

test("a state write, a restore read and a listing started as the state stream's leader dies complete after the election, bytes intact", async () => {
  nats = await startTestNatsCluster(3);
  const subjects = new Subjects("eddy-test-leaderloss");
  // Open on any server first, to learn which one leads the state stream.
  const probe = await connectNats(nats.url, "leader-loss-probe");
  const opened = await CheckpointStorage.open(probe, subjects);
  const before = randomBytesOf(3 << 20);
  const name = (i: number) => checkpointObjectName("jobLL", 1, "op", i, "keyed");
  const handle = await opened.write(name(0), before);
  const leader = (await (await jetstreamManager(probe)).streams.info(`OBJ_${opened.bucket}`)).cluster?.leader;
  await probe.close();
  const victim = Math.max(0, ["n1", "n2", "n3"].indexOf(leader ?? "n1"));
  // The client stays on a server that lives: what it sees is the stream without a leader, not a reconnect.
  nc = await connectNats(nats.urls[(victim + 1) % 3]!, "leader-loss");
  // Small chunks: the write during the election is 32 publishes, several in flight when it starts.
  const storage = await CheckpointStorage.open(nc, subjects, { chunkBytes: 64 << 10 });
  assert.equal((await (await jetstreamManager(nc)).streams.info(`OBJ_${storage.bucket}`)).config.num_replicas, 3);

  await nats.kill(victim);
  const after = randomBytesOf(2 << 20);
  const [written, read, listed] = await Promise.all([storage.write(name(1), after), storage.read(handle), storage.list("jobLL/")]);
  assert.ok(
    listed.some((o) => o.name === name(0) && o.bytes === before.length),
    "a listing started as the leader dies completes and holds the object written before",
  );
  assert.equal(Buffer.compare(Buffer.from(read), Buffer.from(before)), 0, "the object written before the loss reads back intact");
  assert.equal(written.bytes, after.length);
  const back = await storage.read(written);
  assert.equal(Buffer.compare(Buffer.from(back), Buffer.from(after)), 0, "the object written during the election reads back intact");
  assert.deepEqual(
    (await storage.list("jobLL/")).map((o) => o.name),
    [name(0), name(1)],
    "one object each, no duplicate metadata",
  );
  const info = (await (await new Objm(nc).open(storage.bucket)).info(name(1)))!;
  const chunkSubject = `$O.${storage.bucket}.C.${info.nuid}`;
  const stream = await (await jetstreamManager(nc)).streams.info(`OBJ_${storage.bucket}`, { subjects_filter: chunkSubject });
  assert.equal(info.chunks, 32);
  assert.equal(stream.state.subjects?.[chunkSubject], info.chunks, "each chunk stored once: retried publishes were dropped as duplicates");
});
