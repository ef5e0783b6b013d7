/**
 * `eddy.dispatcher.rescaleJob` from a bare JSON client: the scheduler chosen per job (a job's
 * `config.scheduler: "adaptive"` on a cluster whose default is the DefaultScheduler), the reply, and
 * every refusal with its stable code, changing nothing.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { startInProcessCluster, type InProcessCluster } from "../helpers/in-process-cluster.js";
import { allRunning, waitForJob } from "../helpers/jobs.js";

let c: InProcessCluster;
let nc: NatsConnection;

before(async () => {
  c = await startInProcessCluster({ taskExecutors: 1, slots: 4 });
  nc = await connect({ servers: c.natsUrl, name: "bare-json-client" });
});
after(async () => {
  await nc?.close().catch(() => undefined);
  await c?.stop();
});

async function ask(method: string, body: unknown, timeoutMs = 10_000): Promise<any> {
  const h = headers();
  h.set("Content-Type", "application/json");
  const m = await nc.request(`${c.prefix}.dispatcher.${method}`, JSON.stringify(body), { headers: h, timeout: timeoutMs });
  return JSON.parse(new TextDecoder().decode(m.data));
}

const job = (name: string, scheduler?: string) => ({
  name,
  vertices: [
    { id: "src", invokable: "source.sequence", parallelism: 2, config: { from: 0, to: 1e12, ratePerSecond: 1000 } },
    { id: "sink", invokable: "sink.discard", parallelism: 2, chaining: false },
  ],
  edges: [{ source: "src", target: "sink", partitioner: "rebalance" }],
  ...(scheduler ? { config: { scheduler } } : {}),
});

test("rescaleJob declares bounds on an adaptive job and refuses bad requests with stable codes", async () => {
  const adaptive = (await ask("submitJob", job("adaptive", "adaptive"))).jobId as string;
  const plain = (await ask("submitJob", job("default"))).jobId as string;
  await waitForJob(c.dispatcher, adaptive, allRunning, 30_000, "adaptive job running");
  await waitForJob(c.dispatcher, plain, allRunning, 30_000, "default job running");

  const ok = await ask("rescaleJob", { jobId: adaptive, vertexId: "sink", min: 1, max: 3 });
  assert.deepEqual(ok, { jobId: adaptive, vertexId: "sink", min: 1, max: 3 });
  const exact = await ask("rescaleJob", { jobId: adaptive, vertexId: "sink", parallelism: 1 });
  assert.deepEqual([exact.min, exact.max], [1, 1]);

  const refusals: Array<[unknown, string]> = [
    [{ jobId: plain, vertexId: "sink", parallelism: 1 }, "RescaleNotSupported"],
    [{ jobId: adaptive, vertexId: "nope", parallelism: 1 }, "VertexNotFound"],
    [{ jobId: adaptive, vertexId: "sink", min: 3, max: 2 }, "InvalidParallelism"],
    [{ jobId: adaptive, vertexId: "sink", parallelism: 99999 }, "MalformedRequest"],
    [{ jobId: adaptive, vertexId: "sink", parallelism: 1, max: 2 }, "MalformedRequest"],
    [{ jobId: adaptive, vertexId: "sink" }, "MalformedRequest"],
    [{ jobId: adaptive, vertexId: "sink", parallelism: "2" }, "MalformedRequest"],
    [{ jobId: "0".repeat(32), vertexId: "sink", parallelism: 1 }, "JobNotFound"],
  ];
  for (const [body, code] of refusals) {
    const r = await ask("rescaleJob", body);
    assert.equal(r.error?.code, code, `${JSON.stringify(body)} -> ${JSON.stringify(r)}`);
  }
  const d = await ask("requestJob", { jobId: plain });
  assert.deepEqual(
    d.vertices.map((v: { parallelism: number }) => v.parallelism),
    [2, 2],
    "a refused rescale changes nothing",
  );
  await ask("cancelJob", { jobId: adaptive });
  await ask("cancelJob", { jobId: plain });
  const r = await ask("requestJobResult", { jobId: adaptive, timeoutMs: 20_000 });
  assert.equal(r.state, "CANCELED");
});

test("stop-with-savepoint on the adaptive scheduler drains the job to FINISHED and yields a savepoint", async () => {
  const { keyedCounterJob, committedLines } = await import("../helpers/keyed-counter.js");
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "eddy-adaptive-sp-"));
  try {
    const spec = await keyedCounterJob({ events: 1_000_000, keys: 5, rate: 2_000, intervalMs: 200, output: join(dir, "out"), parallelism: 2 });
    spec.config = { ...spec.config, scheduler: "adaptive" };
    const { jobId } = await ask("submitJob", spec);
    await waitForJob(c.dispatcher, jobId, (d) => allRunning(d) && (d.checkpoints.latest?.id ?? 0) > 0, 30_000, "running with a checkpoint");
    // (The reply can take 30 s on either scheduler: the savepoint's notifyCheckpointComplete asks to tasks
    // that have just ended wait out their timeout.)
    const sp = await ask("triggerSavepoint", { jobId, stop: true }, 60_000);
    assert.match(sp.savepointId ?? JSON.stringify(sp), /^sp-/);
    const r = await ask("requestJobResult", { jobId, timeoutMs: 30_000 });
    assert.equal(r.state, "FINISHED", JSON.stringify(r.failure));
    const lines = committedLines(join(dir, "out"));
    assert.ok(lines.length > 0 && lines.length < 1_000_000, `${lines.length} events committed before the stop`);
    assert.equal(new Set(lines).size, lines.length, "no line twice");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
