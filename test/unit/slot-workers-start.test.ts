/**
 * Slot threads start a few at a time: a large job deploying into every slot of a TaskExecutor must not
 * start dozens of isolates at once (each would miss its start timeout on a few cores). What is sent
 * to a slot whose thread waits for its turn reaches the thread, in order, once it starts. Threads run
 * the build's one-file bundle of the slot worker when it is current.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SlotWorkers } from "../../actors/taskexecutor/slot-workers.js";
import type { FromWorker, ToWorker } from "../../actors/task/protocol.js";
import type { TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import { silentLogger } from "../../src/core/logger.js";
import { waitFor } from "../../src/core/time.js";
import { SLOT_WORKER_BUNDLE, slotWorkerKind } from "../../actors/taskexecutor/slot-worker-url.js";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const standIn = new URL("../fixtures/slot-worker-stand-in.js", import.meta.url);
const submit = (attemptId: string): ToWorker => ({ type: "submit", tdd: { attemptId, jobId: "j" } as TaskDeploymentDescriptor, jobMasterToken: "t" });
const ready: ToWorker = { type: "cancel", attemptId: "ready" };

test("slot threads start at most maxStarting at a time; a waiting slot's tasks reach its thread once it starts", async () => {
  const running: string[] = [];
  const workers = new SlotWorkers(
    { natsUrl: "nats://127.0.0.1:1", prefix: "t", taskExecutorId: "te", logLevel: "error" },
    (_slot, m: FromWorker) => {
      if (m.type === "state") running.push(m.attemptId);
    },
    silentLogger(),
    undefined,
    60_000,
    { maxStarting: 2, workerUrl: standIn },
  );
  workers.start(5);
  try {
    for (let i = 0; i < 5; i++) workers.send(i, submit(`a${i}`));
    assert.equal(workers.threadCount, 2, "two threads start, three wait");
    await waitFor(() => running.length === 2, 10_000, "the two started threads run their tasks");
    assert.deepEqual(running.sort(), ["a0", "a1"]);
    workers.send(0, ready);
    await waitFor(() => workers.threadCount === 3, 10_000, "the first ready thread lets the next one start");
    await waitFor(() => running.length === 3, 10_000, "its queued task reaches it");
    assert.equal(running[2], "a2");
    workers.send(1, ready);
    workers.send(2, ready);
    await waitFor(() => workers.threadCount === 5, 10_000, "every slot has its thread");
    await waitFor(() => running.length === 5, 10_000, "every task reached its thread");
    assert.deepEqual(running.slice(3).sort(), ["a3", "a4"]);
  } finally {
    await workers.stop();
  }
});

test("slot threads run the build's bundle only while no compilation is newer, and never with EDDY_SLOT_WORKER=modules", () => {
  const dist = mkdtempSync(join(tmpdir(), "eddy-slot-bundle-"));
  try {
    const file = (rel: string, mtimeS: number) => {
      const p = join(dist, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, "");
      utimesSync(p, mtimeS, mtimeS);
    };
    file("actors/task/slot-worker.js", 1_000);
    file(".tsbuildinfo", 1_000);
    assert.equal(slotWorkerKind(dist, {}), "modules", "no bundle built");
    file(`actors/task/${SLOT_WORKER_BUNDLE}`, 2_000);
    assert.equal(slotWorkerKind(dist, {}), "bundle");
    assert.equal(slotWorkerKind(dist, { EDDY_SLOT_WORKER: "modules" }), "modules");
    file(".tsbuildinfo", 3_000); // tsc changed an output after the build
    assert.equal(slotWorkerKind(dist, {}), "modules", "a stale bundle is not run");
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
});
