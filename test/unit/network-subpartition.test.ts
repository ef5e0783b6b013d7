import { test } from "node:test";
import assert from "node:assert/strict";
import { EddyError, ErrorCode } from "../../src/core/errors.js";
import { networkConfig, ResultSubpartition, type SubpartitionReader } from "../../src/network/index.js";
import type { SubpartitionOwner } from "../../src/network/subpartition.js";
import { decodeRecords, frameKind, FrameKind } from "../../src/network/frame.js";
import type { NetworkEvent } from "../../src/core/stream-events.js";

/** What a fake link was handed, in order. */
type Sent =
  | { kind: "frame"; frame: Uint8Array; seq: number; backlog: number }
  | { kind: "records"; records: unknown[]; seq: number }
  | { kind: "event"; seq: number };

function reader(adaptive: boolean, maxFrameBytes = Number.POSITIVE_INFINITY) {
  const sent: Sent[] = [];
  const r: SubpartitionReader = {
    adaptive,
    maxFrameBytes,
    sendData(records, seq) {
      sent.push({ kind: "records", records: [...records], seq });
      return adaptive ? 1 : 0;
    },
    sendFrame(frame, seq, backlog) {
      if (frame.length > maxFrameBytes) return -frame.length;
      sent.push({ kind: "frame", frame, seq, backlog });
      return frame.length;
    },
    sendEnd() {},
    sendError() {},
    sendEvent(_e: NetworkEvent, seq: number) {
      sent.push({ kind: "event", seq });
    },
    close() {},
  };
  return { r, sent };
}

function owner(maxFrameBytes = 900 * 1024) {
  const failures: unknown[] = [];
  const o: SubpartitionOwner = {
    cfg: networkConfig({ maxFrameBytes, targetBufferBytes: 1 << 20 }),
    onBufferStarted() {},
    onFull() {},
    onBuffer() {},
    onSent() {},
    onEndSent() {},
    onEventSent() {},
    fail(err) {
      failures.push(err);
      return err as Error;
    },
  };
  return { o, failures };
}

const records = (n: number, from = 0) => Array.from({ length: n }, (_, i) => [`w${from + i}`, from + i]);

test("a link that encodes gets its buffers encoded when finished and sent in order with events, with the backlog at sending time", () => {
  const { o } = owner();
  const sub = new ResultSubpartition(0, "p#0.0", o, 4);
  const { r, sent } = reader(true);
  sub.attach(r, 0);
  for (const x of records(10)) sub.add(x);
  sub.finishBuffer();
  // Nothing sent without credit; the backlog holds three buffers of 4, 4 and 2 records.
  assert.equal(sent.length, 0);
  assert.equal(sub.backlog, 3);
  sub.addEvent({ watermark: 5 });
  sub.addCredit(3);
  assert.deepEqual(
    sent.map((s) => s.kind),
    ["frame", "frame", "frame", "event"],
  );
  const frames = sent.filter((s) => s.kind === "frame");
  assert.deepEqual(
    frames.flatMap((f) => decodeRecords(f.frame)),
    records(10),
  );
  for (const [i, f] of frames.entries()) {
    assert.equal(frameKind(f.frame), FrameKind.Data);
    assert.equal(f.seq, i);
    assert.equal(f.backlog, 2 - i, "the backlog is the one at sending time");
  }
  assert.equal(sent[3]!.seq, 3);
  assert.equal(sub.recordsSent, 10);
});

test("a link that does not encode gets record arrays; a frame encoded for an earlier link reaches it as a frame", () => {
  const { o } = owner();
  const sub = new ResultSubpartition(0, "p#0.0", o, 3);
  const remote = reader(true);
  sub.attach(remote.r, 0);
  for (const x of records(3)) sub.add(x);
  // The consumer moves: the encoded buffer waits for the next link, a same-thread one.
  sub.detach(remote.r);
  const local = reader(false);
  sub.attach(local.r, 5);
  for (const x of records(3, 3)) sub.add(x);
  assert.deepEqual(
    local.sent.map((s) => s.kind),
    ["frame", "records"],
  );
  const [first, second] = local.sent;
  assert.ok(first?.kind === "frame" && second?.kind === "records");
  assert.deepEqual(decodeRecords(first.frame), records(3));
  assert.deepEqual(second.records, records(3, 3));
});

test("a buffer too large for one frame is encoded as halves; a frame too large for a later link is split again", () => {
  const big = (i: number) => ["x".repeat(300), i];
  const { o, failures } = owner(2_000);
  const sub = new ResultSubpartition(0, "p#0.0", o, 16);
  const first = reader(true, 2_000);
  sub.attach(first.r, 0);
  for (let i = 0; i < 16; i++) sub.add(big(i));
  assert.equal(failures.length, 0);
  // 16 records of ~300 bytes do not fit 2,000 bytes: halved until each part fits (4 frames of 4).
  assert.equal(sub.backlog, 4);
  sub.detach(first.r);
  const smaller = reader(true, 1_000);
  sub.attach(smaller.r, 100);
  const got = smaller.sent.flatMap((s) => (s.kind === "frame" ? decodeRecords(s.frame) : s.kind === "records" ? s.records : []));
  assert.deepEqual(
    got,
    Array.from({ length: 16 }, (_, i) => big(i)),
  );
  assert.ok(
    smaller.sent.some((s) => s.kind === "records"),
    "the frames were decoded and split for the smaller link",
  );
  assert.deepEqual(
    smaller.sent.map((s) => s.seq),
    smaller.sent.map((_, i) => i),
  );
});

test("one record larger than a frame fails the output with RecordTooLarge when its buffer is finished", () => {
  const { o, failures } = owner(1_000);
  const sub = new ResultSubpartition(0, "p#0.0", o, 4);
  sub.attach(reader(true, 1_000).r, 0);
  sub.add(["y".repeat(2_000), 1]);
  assert.throws(
    () => sub.finishBuffer(),
    (e: unknown) => e instanceof EddyError && e.code === ErrorCode.RecordTooLarge,
  );
  assert.equal(failures.length, 1);
});
