/**
 * examples/nexmark.ts run in process (test/helpers/local-runtime.ts) through its job main: the
 * generator's shape and determinism, and every query against the single-threaded reference
 * (test/helpers/nexmark-reference.ts) at parallelism 1 and 3: q0–q3 from the generator and from a
 * JSON-lines file of the same events; q4, q5, q7 and q8 from the generator over 6 s of event time
 * and from a file of slower events spanning many windows, some with ties made on purpose.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { StreamExecutionEnvironment } from "../../src/sdk/index.js";
import { MiniCluster } from "../../src/testing/index.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { runLocally } from "../helpers/local-runtime.js";
import { startStreamTestEnv, type StreamTestEnv } from "../helpers/stream-env.js";
import { committedLines, committedLinesByFile } from "../helpers/keyed-counter.js";
import { nexmarkReference } from "../helpers/nexmark-reference.js";
import nexmark from "../../examples/nexmark.js";
import { eventToJson, parseEvent, type NexmarkEvent } from "../../examples/nexmark/events.js";
import { DEFAULT_CONFIG, nexmarkEvent, type GeneratorConfig } from "../../examples/nexmark/generator.js";
import type { Bid } from "../../examples/nexmark/events.js";

const EVENTS = 10_000;
const SEED = 3;
const config: GeneratorConfig = { ...DEFAULT_CONFIG, seed: SEED };
const events: NexmarkEvent[] = Array.from({ length: EVENTS }, (_, n) => nexmarkEvent(n, config));

let t: StreamTestEnv;
before(async () => {
  t = await startStreamTestEnv("nexmark");
});
after(async () => {
  await t.stop();
});

test("the generator is deterministic for a seed and differs between seeds", () => {
  const again = Array.from({ length: EVENTS }, (_, n) => nexmarkEvent(n, { ...DEFAULT_CONFIG, seed: SEED }));
  assert.deepEqual(again, events);
  const other = Array.from({ length: EVENTS }, (_, n) => nexmarkEvent(n, { ...DEFAULT_CONFIG, seed: SEED + 1 }));
  assert.notDeepEqual(other, events);
});

test("every block of 50 events is 1 person, 3 auctions and 46 bids, with increasing ids and event times", () => {
  for (let block = 0; block < EVENTS / 50; block++) {
    const types = events.slice(block * 50, block * 50 + 50).map((e) => e.type);
    assert.deepEqual(types, ["person", "auction", "auction", "auction", ...Array<string>(46).fill("bid")], `block ${block}`);
  }
  const persons = events.filter((e) => e.type === "person").map((e) => e.id);
  const auctions = events.filter((e) => e.type === "auction").map((e) => e.id);
  assert.deepEqual(
    persons,
    persons.map((_, i) => 1000 + i),
  );
  assert.deepEqual(
    auctions,
    auctions.map((_, i) => 1000 + i),
  );
  for (let n = 1; n < EVENTS; n++) assert.ok(events[n]!.dateTime >= events[n - 1]!.dateTime, `event ${n}`);
  // 10,000 events per second of event time.
  assert.equal(events[EVENTS - 1]!.dateTime - events[0]!.dateTime, Math.floor(((EVENTS - 1) * 1000) / 10_000));
  // Hot auctions: half the bids go to the newest auction rounded down to a multiple of 100.
  const bids = events.filter((e) => e.type === "bid");
  const hot = bids.filter((b) => (b.auction - 1000) % 100 === 0).length / bids.length;
  assert.ok(hot > 0.45 && hot < 0.6, `${hot} of the bids on hot auctions`);
  const hotBidders = bids.filter((b) => (b.bidder - 1001) % 100 === 0).length / bids.length;
  assert.ok(hotBidders > 0.7, `${hotBidders} of the bids by hot bidders`);
});

test("the generator source emits the same events at parallelism 1 and 3, in event-time order per subtask", async () => {
  const expected = events.map(eventToJson).sort();
  for (const p of [1, 3]) {
    const dir = join(t.dir, `events-${p}`);
    const env = new StreamExecutionEnvironment("nexmark events", { parallelism: p });
    env
      .fromGenerator(EVENTS, (n) => nexmarkEvent(n, config))
      .map(eventToJson)
      .writeAsText(dir);
    await runLocally(env.build(), { nc: t.nc });
    const byFile = committedLinesByFile(dir);
    assert.deepEqual(byFile.map((l) => l.line).sort(), expected, `parallelism ${p}`);
    const files = new Set(byFile.map((l) => l.file));
    assert.equal(files.size, p, `${p} part files`);
    for (const f of files) {
      const times = byFile.filter((l) => l.file === f).map((l) => parseEvent(l.line).dateTime);
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `${f}: event times never decrease`);
    }
  }
});

test("the reference answers are not trivial: q2 selects some bids and q3 joins auctions that came before their seller", () => {
  assert.ok(nexmarkReference("q2", events).length > 0, "q2 has lines");
  const q3 = nexmarkReference("q3", events);
  assert.ok(q3.length > 5, `q3 has ${q3.length} lines`);
  const personAt = new Map(events.flatMap((e, n) => (e.type === "person" ? [[e.id, n] as const] : [])));
  const early = events.filter(
    (e, n) => e.type === "auction" && e.category === 10 && q3.some((l) => l.endsWith(`\t${e.id}`)) && (personAt.get(e.seller) ?? 0) > n,
  );
  assert.ok(early.length > 0, "some joined auctions precede their seller");
});

const inputFile = (): string => {
  const f = t.file("events.jsonl");
  writeFileSync(f, `${events.map(eventToJson).join("\n")}\n`);
  return f;
};

for (const query of ["q0", "q1", "q2", "q3"] as const) {
  test(`${query} gives the reference answer at parallelism 1 and 3, from the generator and from a JSON-lines file`, async () => {
    const expected = nexmarkReference(query, events);
    const file = inputFile();
    for (const p of [1, 3]) {
      for (const [source, args] of [
        ["generator", ["--events", String(EVENTS), "--seed", String(SEED)]],
        ["file", ["--input", file]],
      ] as const) {
        const dir = join(t.dir, `${query}-${source}-${p}`);
        mkdirSync(dir);
        await runLocally(await nexmark(["--query", query, ...args, "--output", dir], { parallelism: p }), { nc: t.nc });
        assert.deepEqual(committedLines(dir).sort(), expected, `${query} from the ${source} at parallelism ${p}`);
      }
    }
  });
}

/** Events for the windowed queries from the generator: 60,000 events, 6 s of event time. */
const WINDOWED_EVENTS = 60_000;
const windowedEvents: NexmarkEvent[] = Array.from({ length: WINDOWED_EVENTS }, (_, n) => nexmarkEvent(n, config));

/**
 * A file of 20,000 events at 400 per second of event time (50 s: five tumbling and 29 sliding
 * windows), where in every 10 s window the last bid is given the window's highest price, so each
 * window of q7 has a tie.
 */
function tiedEvents(): NexmarkEvent[] {
  const slow = Array.from({ length: 20_000 }, (_, n) => nexmarkEvent(n, { ...config, eventsPerSecond: 400 }));
  const byWindow = new Map<number, Bid[]>();
  for (const e of slow) {
    if (e.type !== "bid") continue;
    const start = e.dateTime - (e.dateTime % 10_000);
    const bids = byWindow.get(start);
    if (bids) bids.push(e);
    else byWindow.set(start, [e]);
  }
  for (const bids of byWindow.values()) {
    const top = bids.reduce((a, b) => (b.price > a.price ? b : a));
    const other = bids.at(-1) === top ? bids[0]! : bids.at(-1)!;
    other.price = top.price;
  }
  return slow;
}

test("the reference answers of q4, q5, q7 and q8 are not trivial", () => {
  assert.equal(nexmarkReference("q4", windowedEvents).length, 5, "five categories in q4");
  const q5 = nexmarkReference("q5", windowedEvents);
  const q5Windows = new Set(q5.map((l) => l.split("\t")[0]));
  assert.ok(q5Windows.size >= 7 && q5.length > q5Windows.size, `q5: ${q5.length} lines over ${q5Windows.size} windows (some tied)`);
  assert.ok(nexmarkReference("q8", windowedEvents).length > 100, "q8 finds new users");
  const tied = tiedEvents();
  const q7 = nexmarkReference("q7", tied);
  const q7Windows = new Set(q7.map((l) => l.split("\t")[0]));
  assert.ok(q7Windows.size >= 5 && q7.length >= 2 * q7Windows.size, `q7: ${q7.length} lines over ${q7Windows.size} windows, every one tied`);
  assert.ok(new Set(nexmarkReference("q8", tied).map((l) => l.split("\t")[2])).size >= 5, "q8 over five windows of the file");
});

for (const query of ["q4", "q5", "q7", "q8"] as const) {
  test(`${query} gives the reference answer at parallelism 1 and 3 from the generator, and at 3 from a file`, async () => {
    const expected = nexmarkReference(query, windowedEvents);
    for (const p of [1, 3]) {
      const dir = join(t.dir, `${query}-generator-${p}`);
      mkdirSync(dir);
      await runLocally(await nexmark(["--query", query, "--events", String(WINDOWED_EVENTS), "--seed", String(SEED), "--output", dir], { parallelism: p }), {
        nc: t.nc,
      });
      assert.deepEqual(committedLines(dir).sort(), expected, `${query} from the generator at parallelism ${p}`);
    }
    const tied = tiedEvents();
    const file = t.file("tied.jsonl");
    writeFileSync(file, `${tied.map(eventToJson).join("\n")}\n`);
    const dir = join(t.dir, `${query}-file-3`);
    mkdirSync(dir);
    await runLocally(await nexmark(["--query", query, "--input", file, "--output", dir], { parallelism: 3 }), { nc: t.nc });
    assert.deepEqual(committedLines(dir).sort(), nexmarkReference(query, tied), `${query} from the file at parallelism 3`);
  });
}

test("an unknown query or a missing source is a usage error", async () => {
  for (const q of ["q6", "q9"])
    await assert.rejects(async () => nexmark(["--query", q, "--events", "10", "--output", t.dir], {}), new RegExp(`unknown query "${q}"[\\s\\S]*usage:`));
  await assert.rejects(async () => nexmark(["--query", "q0", "--output", t.dir], {}), /exactly one of --input FILE and --events N/);
});

test("eddy run's path (the job file bundled, on a mini cluster) gives q3's reference answer at parallelism 3", async () => {
  const dir = join(t.dir, "mini-cluster-q3");
  const cluster = await MiniCluster.start({ slots: 3 });
  try {
    const args = ["--query", "q3", "--events", String(EVENTS), "--seed", String(SEED), "--output", dir];
    const res = await cluster.runJob(join(packageRoot(), "examples/nexmark.ts"), { args, parallelism: 3, timeoutMs: 60_000 });
    assert.equal(res.state, "FINISHED", JSON.stringify(res.failure));
  } finally {
    await cluster.stop();
  }
  assert.deepEqual(committedLines(dir).sort(), nexmarkReference("q3", events));
});

/** Minimal events for hand-made inputs (the fields the queries do not read are constant). */
const person = (id: number, name: string, dateTime: number): NexmarkEvent => ({
  type: "person",
  id,
  name,
  emailAddress: "x@y.com",
  creditCard: "0000 0000 0000 0000",
  city: "Boise",
  state: "ID",
  dateTime,
});
const auction = (id: number, seller: number, category: number, dateTime: number, expires: number): NexmarkEvent => ({
  type: "auction",
  id,
  itemName: "item",
  description: "d",
  initialBid: 1,
  reserve: 2,
  dateTime,
  expires,
  seller,
  category,
});
const bid = (a: number, price: number, dateTime: number, bidder = 1): NexmarkEvent => ({
  type: "bid",
  auction: a,
  bidder,
  price,
  channel: "Google",
  url: "u",
  dateTime,
});

test("q4, q5, q7 and q8 at the edges of their definitions: hand-made events, answers worked out by hand", async () => {
  const B = 1_436_918_400_000; // a multiple of 10 s: window starts are B + k * 2 s
  const events = [
    bid(1, 50, B + 1000), // before its auction in the input, at its dateTime: counts for q4
    auction(1, 100, 10, B + 1000, B + 2000),
    bid(3, 500, B + 1400), // before auction 3's dateTime: not for q4
    auction(2, 101, 10, B + 1500, B + 1600), // no bid: left out of q4
    auction(3, 102, 11, B + 1500, B + 3000),
    auction(4, 100, 10, B + 1500, B + 9000),
    bid(1, 70, B + 2000), // at auction 1's expiry: counts
    bid(1, 999, B + 2001), // after it: not for q4, but window [B, B+10 s)'s highest in q7
    bid(3, 30, B + 2500),
    bid(4, 75, B + 3000),
    person(100, "Ann", B + 9999), // auctions 1 and 4 in her window
    person(102, "Bob", B + 10_000), // auction 3 is in the window before his
    auction(5, 102, 12, B + 10_000, B + 10_001),
    bid(4, 75, B + 10_000), // after auction 4's expiry; tied for q7 with the next
    bid(5, 75, B + 10_001, 2),
  ];
  const w = (start: number, a: number, count: number) => `${B + start}\t${B + start + 10_000}\t${a}\t${count}`;
  const expected: Record<"q4" | "q5" | "q7" | "q8", string[]> = {
    // Category 10: auctions 1 (70) and 4 (75), floor(145 / 2).
    q4: ["10\t72", "11\t30", "12\t75"],
    q5: [
      w(-8000, 1, 1),
      w(-8000, 3, 1),
      w(-6000, 1, 3),
      w(-4000, 1, 3),
      w(-2000, 1, 3),
      w(0, 1, 3),
      w(2000, 1, 2),
      w(2000, 4, 2),
      ...[4000, 6000, 8000, 10_000].flatMap((s) => [w(s, 4, 1), w(s, 5, 1)]),
    ],
    q7: [
      `${B}\t${B + 10_000}\t1\t1\t999\t${B + 2001}`,
      `${B + 10_000}\t${B + 20_000}\t4\t1\t75\t${B + 10_000}`,
      `${B + 10_000}\t${B + 20_000}\t5\t2\t75\t${B + 10_001}`,
    ],
    q8: [`100\tAnn\t${B}`, `102\tBob\t${B + 10_000}`],
  };
  const file = t.file("edges.jsonl");
  writeFileSync(file, `${events.map(eventToJson).join("\n")}\n`);
  for (const query of ["q4", "q5", "q7", "q8"] as const) {
    const want = [...expected[query]].sort();
    assert.deepEqual(nexmarkReference(query, events), want, `the reference's ${query}`);
    for (const p of [1, 2]) {
      const dir = join(t.dir, `edges-${query}-${p}`);
      mkdirSync(dir);
      await runLocally(await nexmark(["--query", query, "--input", file, "--output", dir], { parallelism: p }), { nc: t.nc });
      assert.deepEqual(committedLines(dir).sort(), want, `${query} at parallelism ${p}`);
    }
  }
});

test("an input line that is not a Nexmark event fails the job naming the field", async () => {
  const file = t.file("bad.jsonl");
  const bad = { ...events.find((e) => e.type === "bid")!, price: "12" };
  writeFileSync(file, `${eventToJson(events[0]!)}\n${JSON.stringify(bad)}\n`);
  const dir = join(t.dir, "bad-input");
  await assert.rejects(
    runLocally(await nexmark(["--query", "q0", "--input", file, "--output", dir], { parallelism: 1 }), { nc: t.nc }),
    /bid field "price" must be an integer/,
  );
});
