/**
 * Remote link over a real nats-server: two environments standing for two TaskExecutors. The shared
 * link scenarios, then what only the NATS link has (frame limits, buffer sequence numbers, usesRemoteLinks).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { ErrorCode } from "../../src/core/errors.js";
import { NetworkEnvironment, type NetworkConfig } from "../../src/network/index.js";
import {
  decodeRecords,
  encodeDataFrame,
  encodeRequest,
  FRAME_HEADER_BYTES,
  FRAME_VERSION,
  frameBacklog,
  frameChannel,
  FrameKind,
  frameKind,
  frameSeq,
  frameVersion,
  unpackSmall,
} from "../../src/network/frame.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { consume, inputOf, outputOf, produce, rec, topology } from "../helpers/network-util.js";
import { describeLinkScenarios } from "../helpers/network-scenarios.js";

let nats: TestNats;
let ncA: NatsConnection;
let ncB: NatsConnection;
const subjects = new Subjects("eddy-test-net");
const locA = { taskExecutorId: "teA", slotIndex: 0 };
const locB = { taskExecutorId: "teB", slotIndex: 0 };

before(async () => {
  nats = await startTestNats();
  ncA = await connectNats(nats.url, "net-A");
  ncB = await connectNats(nats.url, "net-B");
});
after(async () => {
  await ncA.close();
  await ncB.close();
  await nats.stop();
});

function envs(config: Partial<NetworkConfig> = {}): [NetworkEnvironment, NetworkEnvironment] {
  return [new NetworkEnvironment({ nc: ncA, subjects, location: locA, config }), new NetworkEnvironment({ nc: ncB, subjects, location: locB, config })];
}

const A = () => locA;
const B = () => locB;

describeLinkScenarios(
  "remote",
  (config = {}) => {
    const [a, b] = envs(config);
    return {
      producer: a,
      consumer: b,
      producerAt: A,
      consumerAt: B,
      close: () => {
        a.close();
        b.close();
      },
    };
  },
  { bufferRecords: 256 },
);

test("NATS: big buffers are split below the frame limit, the record target adapts to ~32 KiB, a record over the limit is RecordTooLarge", async () => {
  const [a, b] = envs();
  const t = topology("n-big", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const out = a.createOutput("n-big-p0", [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 1024 });
  const input = b.createInput("n-big-c0", [inputOf(t, 0)]);
  const big = (i: number) => [i, "x".repeat(100_000)];
  for (let i = 0; i < 30; i++) out.emit(big(i)); // 3 MB in one buffer
  out.flush();
  const seen: number[] = [];
  while (seen.length < 30) {
    const batch = await input.next();
    assert.ok(batch);
    for (const r of batch.records) {
      assert.equal((r as [number, string])[1].length, 100_000);
      seen.push((r as [number, string])[0]);
    }
    input.recycle(batch);
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 30 }, (_, i) => i),
  );
  assert.ok(out.stats.buffersSent >= 4, `3 MB went out in ${out.stats.buffersSent} frames`);
  assert.equal(out.partitions[0]!.subpartitions[0]!.target, 1, "100 KB records: one per buffer");

  for (let i = 0; i < 3000; i++) out.emit([i, "y".repeat(1000)]);
  out.flush();
  let n = 0;
  while (n < 3000) {
    const batch = await input.next();
    assert.ok(batch);
    n += batch.records.length;
    input.recycle(batch);
  }
  const target = out.partitions[0]!.subpartitions[0]!.target;
  assert.ok(target >= 20 && target <= 40, `1 KB records: target ${target} per 32 KiB buffer`);

  // Thrown by flush() when credit is there, else by finish() once the consumer's credit arrives.
  await assert.rejects(
    async () => {
      out.emit([0, "z".repeat(1_200_000)]);
      out.flush();
      await out.finish();
    },
    (err: { code?: string }) => err.code === ErrorCode.RecordTooLarge,
  );
  assert.throws(
    () => out.emit([1, "small"]),
    (err: { code?: string }) => err.code === ErrorCode.RecordTooLarge,
  );
  a.close();
  b.close();
});

/**
 * A one-to-one link `id` whose first buffer (one record) was delivered and recycled: the next frame the
 * consumer expects is #1, which a test then forges on `subjects.data("<id>-c0")`.
 */
async function linkPastFirstBuffer(id: string) {
  const [a, b] = envs();
  const t = topology(id, 1, 1, "ALL_TO_ALL", "forward", A, B);
  const out = a.createOutput(`${id}-p0`, [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 10 });
  const input = b.createInput(`${id}-c0`, [inputOf(t, 0)]);
  out.emit([0, 0, "k"]);
  out.flush();
  const first = await input.next();
  assert.deepEqual(first?.records, [[0, 0, "k"]]);
  input.recycle(first!);
  return { input, close: () => (a.close(), b.close()) };
}

test("NATS: a sequence gap fails the consumer loudly", async () => {
  const { input, close } = await linkPastFirstBuffer("n-gap");
  ncA.publish(subjects.data("n-gap-c0"), encodeDataFrame(0, 5, [["forged"]]));
  await assert.rejects(input.next(), /expected buffer #1, received #5/);
  close();
});

test("NATS: a data frame whose body does not decode fails the consumer when the task takes it, naming the channel", async () => {
  const { input, close } = await linkPastFirstBuffer("n-bad");
  // Frame #1 with no watermarks and a truncated msgpack body (an array header announcing 3 items, then nothing).
  const forged = encodeDataFrame(0, 1, []);
  const bad = new Uint8Array(FRAME_HEADER_BYTES + 3);
  bad.set(forged.subarray(0, FRAME_HEADER_BYTES + 2));
  bad[FRAME_HEADER_BYTES + 2] = 0x93;
  ncA.publish(subjects.data("n-bad-c0"), bad);
  await assert.rejects(input.next(), (err: { code?: string; message: string }) => {
    assert.equal(err.code, ErrorCode.InternalError);
    assert.match(err.message, /channel n-bad.*a DATA frame of 15 bytes does not decode/);
    return true;
  });
  close();
});

test("NATS: a data frame whose watermarks are out of place fails the consumer when the task takes it, naming the channel", async () => {
  const { input, close } = await linkPastFirstBuffer("n-marks");
  // Frame #1: a watermark after record 3 of a buffer of 2.
  ncA.publish(subjects.data("n-marks-c0"), encodeDataFrame(0, 1, [["a"], ["b"]], 0, [3, 100]));
  await assert.rejects(input.next(), (err: { code?: string; message: string }) => {
    assert.equal(err.code, ErrorCode.InternalError);
    assert.match(err.message, /channel n-marks.*: watermark 0 \(100 after record 3\) is out of place in a buffer of 2 records/);
    return true;
  });
  close();
});

test("NATS: a data frame or a partition request of another format version is refused with a clear error", async () => {
  const [a, b] = envs();
  const t = topology("n-ver", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const out = a.createOutput("n-ver-p0", [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 10 });
  await ncA.flush(); // the producer's subscription has reached the server
  // A consumer of another version asks for the partition: its request is answered with the error.
  const req = encodeRequest({ r: t.resultId, p: 0, s: 0, ch: 0, d: subjects.data("n-ver-x"), c: 2, a: "n-ver-x" });
  req[1] = FRAME_VERSION + 1;
  const reply = unpackSmall((await ncB.request(subjects.credit("n-ver-p0"), req, { timeout: 5_000 })).data) as { e?: { code: string; message: string } };
  assert.equal(reply.e?.code, ErrorCode.InternalError);
  assert.match(reply.e?.message ?? "", new RegExp(`frame format version ${FRAME_VERSION + 1}, this Eddy reads version ${FRAME_VERSION}`));
  // A producer of the version before (watermarks in frames of their own) sends a frame: the consumer fails before reading its body.
  const input = b.createInput("n-ver-c0", [inputOf(t, 0)]);
  await ncB.flush(); // the consumer's subscription has reached the server: the forged frame is not lost
  const forged = encodeDataFrame(0, 0, [["from another version"]]);
  forged[1] = FRAME_VERSION - 1;
  ncA.publish(subjects.data("n-ver-c0"), forged);
  await assert.rejects(input.next(), (err: { code?: string; message: string }) => {
    assert.equal(err.code, ErrorCode.InternalError);
    assert.match(
      err.message,
      new RegExp(
        `frame format version ${FRAME_VERSION - 1}, this Eddy reads version ${FRAME_VERSION}; the TaskExecutors exchanging data run different Eddy versions`,
      ),
    );
    return true;
  });
  // Frames of this version round-trip as before (header fields, records of mixed shapes, events between them).
  const records = [["w", 1], { k: "x", v: [1.5, null, true] }, "plain", 42, -0.25, [["nested"], { a: 1 }]];
  const frame = encodeDataFrame(7, 9, records, 3);
  assert.deepEqual(
    [frameVersion(frame), frameKind(frame), frameChannel(frame), frameSeq(frame), frameBacklog(frame)],
    [FRAME_VERSION, FrameKind.Data, 7, 9, 3],
  );
  assert.deepEqual(decodeRecords(frame), records);
  out.release();
  a.close();
  b.close();
});

test("NATS: usesRemoteLinks names the attempts exchanging data over NATS, a consumer only until its channels ended", async () => {
  const [a, b] = envs();
  const t = topology("n-links", 1, 1, "ALL_TO_ALL", "hash", A, B);
  const out = a.createOutput("n-links-p0", [outputOf(t, 0)], { bufferTimeoutMs: 10, bufferRecords: 16 });
  const input = b.createInput("n-links-c0", [inputOf(t, 0)]);
  assert.equal(a.usesRemoteLinks("n-links-p0"), false, "no consumer attached yet");
  out.emit(rec(0, 0));
  out.flush();
  const first = await input.next();
  assert.ok(first, "a buffer arrived");
  input.recycle(first);
  assert.equal(a.usesRemoteLinks("n-links-p0"), true, "the producer serves a consumer over NATS");
  assert.equal(b.usesRemoteLinks("n-links-c0"), true, "the consumer reads a channel over NATS");
  assert.equal(a.usesRemoteLinks("n-links-c0"), false, "an attempt not here");
  const producing = produce(out, 0, 500);
  await consume(input);
  await producing;
  assert.equal(b.usesRemoteLinks("n-links-c0"), false, "every channel ended: nothing can be lost any more");
  a.close();
  b.close();
});
