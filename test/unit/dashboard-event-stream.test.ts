/** The dashboard's reading of `/events` from a streamed fetch (src/web/ui/event-stream.ts, tested without a browser). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventStreamParser, type StreamEvent } from "../../src/web/ui/event-stream.js";

/** What the JobManager writes on a stream (src/web/live-events.ts). */
const STREAM =
  'retry: 2000\n\nevent: overview\ndata: {"overview":{"taskmanagers":2}}\n\n: heartbeat\n\nevent: job\ndata: {"jid":"a"}\n\ndata: one\ndata: two\r\n\r\n';
const EVENTS: StreamEvent[] = [
  { type: "overview", data: '{"overview":{"taskmanagers":2}}' },
  { type: "job", data: '{"jid":"a"}' },
  { type: "message", data: "one\ntwo" },
];

test("events come out whole and in order wherever the chunks split the stream; comments and retry are skipped", () => {
  for (let size = 1; size <= STREAM.length; size++) {
    const p = new EventStreamParser();
    const got: StreamEvent[] = [];
    for (let i = 0; i < STREAM.length; i += size) got.push(...p.push(STREAM.slice(i, i + size)));
    assert.deepEqual(got, EVENTS, `chunks of ${size} characters`);
  }
});

test("an event without its blank line yet is held back until the line arrives", () => {
  const p = new EventStreamParser();
  assert.deepEqual(p.push("event: job\ndata: {}\n"), []);
  assert.deepEqual(p.push("\n"), [{ type: "job", data: "{}" }]);
});
