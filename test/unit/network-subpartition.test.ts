import { test } from "node:test";
import assert from "node:assert/strict";
import { EddyError, ErrorCode } from "../../src/core/errors.js";
import { networkConfig, ResultSubpartition, type SubpartitionReader } from "../../src/network/index.js";
import type { SubpartitionOwner } from "../../src/network/subpartition.js";
import { decodeRecords, decodeWatermarks, encodeDataFrame, frameKind, FrameKind, MAX_FRAME_WATERMARKS } from "../../src/network/frame.js";
import type { NetworkEvent } from "../../src/core/stream-events.js";

/** What a fake link was handed, in order. */
type Sent =
  | { kind: "frame"; frame: Uint8Array; seq: number; backlog: number }
  | { kind: "records"; records: unknown[]; marks: number[] | undefined; seq: number }
  | { kind: "event"; seq: number };

function reader(adaptive: boolean, maxFrameBytes = Number.POSITIVE_INFINITY) {
  const sent: Sent[] = [];
  const r: SubpartitionReader = {
    adaptive,
    maxFrameBytes,
    sendData(buffer, seq) {
      const bytes = adaptive ? encodeDataFrame(0, 0, buffer.records, 0, buffer.marks).length : 0;
      if (bytes > maxFrameBytes) return -bytes;
      sent.push({ kind: "records", records: [...buffer.records], marks: buffer.marks, seq });
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
  const started = { count: 0 };
  const o: SubpartitionOwner = {
    cfg: networkConfig({ maxFrameBytes, targetBufferBytes: 1 << 20 }),
    onBufferStarted() {
      started.count++;
    },
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
  return { o, failures, started };
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
  sub.addEvent({ cancel: 5 });
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

/** What a reader was sent, as records and watermarks in order (`W<w>`), with a "|" between buffers and "E" for an event. */
function elements(sent: Sent[]): string[] {
  const out: string[] = [];
  for (const s of sent) {
    if (s.kind === "event") {
      out.push("E");
      continue;
    }
    const records = s.kind === "frame" ? decodeRecords(s.frame) : s.records;
    const marks = (s.kind === "frame" ? decodeWatermarks(s.frame) : s.marks) ?? [];
    if (out.length > 0) out.push("|");
    for (let i = 0, m = 0; i <= records.length; i++) {
      for (; m < marks.length && marks[m] === i; m += 2) out.push(`W${marks[m + 1]}`);
      if (i < records.length) out.push(String((records[i] as unknown[])[1]));
    }
  }
  return out;
}

for (const adaptive of [false, true]) {
  test(`watermarks go into the current buffer at their places; a full buffer, a flush and an event finish it, a watermark does not (${adaptive ? "encoded" : "records"})`, () => {
    const { o, started } = owner();
    const sub = new ResultSubpartition(0, "p#0.0", o, 3);
    const { r, sent } = reader(adaptive);
    sub.attach(r, 100);
    sub.addWatermark(1);
    assert.equal(started.count, 1, "a watermark starts a buffer (and its timeout) as a record does");
    for (const x of records(2)) sub.add(x);
    sub.addWatermark(2);
    sub.addWatermark(3);
    assert.equal(sent.length, 0, "watermarks do not finish a buffer");
    for (const x of records(2, 2)) sub.add(x); // the third record finishes it
    sub.addWatermark(4);
    sub.finishBuffer();
    sub.add(records(1, 4)[0]!);
    sub.addEvent({ cancel: 1 });
    sub.addWatermark(5);
    sub.end();
    assert.deepEqual(elements(sent), ["W1", "0", "1", "W2", "W3", "2", "|", "3", "W4", "|", "4", "E", "|", "W5"]);
    assert.equal(started.count, 4, "once per buffer");
    assert.equal(sub.recordsSent, 5);
  });
}

test("a buffer too large for one frame is encoded as halves, each watermark between the same records; a frame too large for a later link is split again", () => {
  const big = (i: number) => ["x".repeat(300), i];
  const { o, failures } = owner(2_000);
  const sub = new ResultSubpartition(0, "p#0.0", o, 16);
  const first = reader(true, 2_000);
  sub.attach(first.r, 0);
  const expected: string[] = [];
  for (let i = 0; i < 16; i++) {
    if (i % 4 === 0) {
      sub.addWatermark(100 + i);
      expected.push(`W${100 + i}`);
    }
    sub.add(big(i));
    expected.push(String(i));
  }
  assert.equal(failures.length, 0);
  assert.equal(sub.backlog, 4, "halved into 4 frames of 4 records");
  sub.detach(first.r);
  const smaller = reader(true, 1_000);
  sub.attach(smaller.r, 100);
  assert.deepEqual(
    elements(smaller.sent).filter((e) => e !== "|"),
    expected,
  );
  assert.ok(
    smaller.sent.some((s) => s.kind === "records" && s.marks !== undefined),
    "the frames were decoded with their watermarks for the smaller link",
  );
  assert.ok(smaller.sent.length >= 8, "and halved again");
  assert.deepEqual(
    smaller.sent.map((s) => s.seq),
    smaller.sent.map((_, i) => i),
  );
});

test("a buffer holding as many watermarks as a frame may carry is finished", () => {
  const { o } = owner();
  const sub = new ResultSubpartition(0, "p#0.0", o, 1000);
  const { r, sent } = reader(true);
  sub.attach(r, 10);
  sub.add(records(1)[0]!);
  for (let i = 0; i < MAX_FRAME_WATERMARKS + 1; i++) sub.addWatermark(i);
  assert.equal(sent.length, 1);
  assert.equal(decodeWatermarks((sent[0] as { frame: Uint8Array }).frame)?.length, 2 * MAX_FRAME_WATERMARKS);
  sub.end();
  assert.equal(sent.length, 2);
});
