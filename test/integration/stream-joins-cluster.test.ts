/**
 * A window join on a process cluster: `eddy run` ships test/fixtures/window-join-job.ts to
 * TaskExecutor processes, and at parallelism 2 its pairs are the nested loop's over the same orders
 * and payments.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/cluster/paths.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { runEddy } from "../helpers/eddy-process.js";
import { readLines } from "../helpers/stream-env.js";
import { order, payment, WINDOW_MS } from "../fixtures/window-join-job.js";

let cluster: ProcessCluster;
let work: string;
before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-join-cluster-"));
  cluster = await startProcessCluster({ taskExecutors: 2, slots: 2 });
});
after(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("a window join via eddy run at parallelism 2: the nested loop's pairs", async () => {
  const orders = 3000;
  const payments = 2500;
  const out = join(work, "join");
  const r = await runEddy(
    [
      "run",
      join(packageRoot(), "test/fixtures/window-join-job.ts"),
      "--parallelism",
      "2",
      "--",
      "--orders",
      String(orders),
      "--payments",
      String(payments),
      "--output",
      out,
    ],
    { natsUrl: cluster.natsUrl, prefix: cluster.prefix, timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const expected: string[] = [];
  for (let i = 0; i < orders; i++) {
    const o = order(i);
    for (let j = 0; j < payments; j++) {
      const p = payment(j);
      if (o.customer === p.customer && Math.floor(o.ts / WINDOW_MS) === Math.floor(p.ts / WINDOW_MS)) expected.push(`o${o.id} p${p.id}`);
    }
  }
  expected.sort();
  assert.ok(expected.length > 10_000, `${expected.length} pairs`);
  assert.deepEqual(readLines(join(out, "pairs.txt")), expected);
});
