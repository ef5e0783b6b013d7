import { test } from "node:test";
import assert from "node:assert/strict";
import { FAULT_KINDS, faultSchedule, type ScheduleSettings } from "../soak/schedule.js";

const settings: ScheduleSettings = {
  seed: 7,
  durationMs: 600_000,
  warmupMs: 10_000,
  quietMs: 30_000,
  faults: 50,
  teLossMs: 10_000,
  leaseMs: 5_000,
  partitions: true,
};

test("the same seed gives the same fault schedule, another seed another", () => {
  assert.deepEqual(faultSchedule(settings), faultSchedule({ ...settings }));
  assert.notDeepEqual(faultSchedule(settings), faultSchedule({ ...settings, seed: 8 }));
});

test("eight faults hold every kind and a double; times lie between warm-up and the quiet end, in order", () => {
  for (let seed = 0; seed < 20; seed++) {
    const s = faultSchedule({ ...settings, seed, durationMs: 60_000, quietMs: 15_000, warmupMs: 6_000, faults: 8 });
    assert.equal(s.length, 8);
    const kinds = new Set(s.flatMap((f) => (f.parts.length > 1 ? ["double"] : f.parts.map((p) => p.kind))));
    for (const k of [...FAULT_KINDS, "double"]) assert.ok(kinds.has(k), `seed ${seed}: ${k} scheduled`);
    for (const f of s) assert.ok(f.atMs >= 6_000 && f.atMs < 45_000, `seed ${seed}: fault at ${f.atMs} ms`);
    assert.deepEqual(
      s.map((f) => f.atMs),
      [...s.map((f) => f.atMs)].sort((a, b) => a - b),
    );
  }
});

test("a double never pairs both leader faults or a NATS server kill with a partition", () => {
  for (let seed = 0; seed < 50; seed++) {
    for (const f of faultSchedule({ ...settings, seed })) {
      if (f.parts.length < 2) continue;
      const k = new Set(f.parts.map((p) => p.kind));
      assert.equal(k.size, 2, `seed ${seed}: two different kinds`);
      assert.ok(!(k.has("jm-kill") && k.has("jm-zombie")), `seed ${seed}: both leader faults`);
      assert.ok(!(k.has("nats-kill") && k.has("partition")), `seed ${seed}: two NATS servers out`);
    }
  }
});

test("zombies are held past loss detection and the lease; without namespaces no partition is scheduled", () => {
  const s = faultSchedule({ ...settings, partitions: false });
  for (const p of s.flatMap((f) => f.parts)) {
    assert.notEqual(p.kind, "partition");
    if (p.kind === "te-zombie") assert.ok(p.holdMs > settings.teLossMs);
    if (p.kind === "jm-zombie") assert.ok(p.holdMs > settings.leaseMs);
  }
});

test("a schedule limited to some kinds injects only those, doubles only when asked for", () => {
  const only = faultSchedule({ ...settings, kinds: ["te-kill"] });
  assert.equal(only.length, settings.faults);
  assert.ok(only.every((f) => f.parts.length === 1 && f.parts[0]!.kind === "te-kill"));
  const two = faultSchedule({ ...settings, kinds: ["te-kill", "jm-kill", "double"] });
  assert.ok(two.flatMap((f) => f.parts).every((p) => p.kind === "te-kill" || p.kind === "jm-kill"));
  assert.ok(two.some((f) => f.parts.length === 2));
  assert.throws(() => faultSchedule({ ...settings, partitions: false, kinds: ["partition"] }), /no fault kind to inject/);
});
