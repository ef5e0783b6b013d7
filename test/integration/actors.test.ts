/**
 * Stateful actors (src/actor-sdk, the operator eddy.actors.dispatch) on a mini cluster: the bank
 * example with local and remote accounts, messages to oneself and in cycles, delayed messages, and
 * bad remote replies.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { MiniCluster } from "../../src/testing/index.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { committedLines } from "../helpers/keyed-counter.js";
import { checkApplied, expectedPatterns, transfers, writeTransfers } from "../helpers/bank.js";
import { serveAccounts } from "../../examples/bank-function.js";
import { startStreamTestEnv, type StreamTestEnv } from "../helpers/stream-env.js";

let cluster: MiniCluster;
let t: StreamTestEnv;
let nc: NatsConnection;
const bank = join(packageRoot(), "examples/bank.ts");

before(async () => {
  cluster = await MiniCluster.start({ slots: 4 });
  t = await startStreamTestEnv("actors");
  nc = await connectNats(cluster.url, "actors-test");
});
after(async () => {
  await nc?.close();
  await cluster?.stop();
  await t?.stop();
});

test("bank: every transfer is debited and credited exactly once with local accounts, at ingress parallelism 1 and 3", async () => {
  const ts = transfers(2_000, 40);
  const input = t.file("transfers.jsonl");
  writeTransfers(input, ts);
  for (const parallelism of [1, 3]) {
    const out = join(t.dir, `local-${parallelism}`);
    const res = await cluster.runJob(bank, { args: ["--input", input, "--output", out], parallelism, timeoutMs: 60_000 });
    assert.equal(res.state, "FINISHED", JSON.stringify(res.failure));
    checkApplied(committedLines(out), ts);
  }
});

test("bank --remote: a plain NATS client serves the account type and the balances are the same", async () => {
  const ts = transfers(1_000, 25, 11);
  const input = t.file("transfers-remote.jsonl");
  writeTransfers(input, ts);
  const fn = await connectNats(cluster.url, "bank-function");
  const served = serveAccounts(fn, cluster.prefix);
  try {
    const out = join(t.dir, "remote");
    const res = await cluster.runJob(bank, { args: ["--input", input, "--output", out, "--remote"], parallelism: 2, timeoutMs: 60_000 });
    assert.equal(res.state, "FINISHED", JSON.stringify(res.failure));
    checkApplied(committedLines(out), ts);
    // Batched per address: fewer requests than messages, but every account was called.
    assert.ok(served.requests >= 25 && served.requests <= ts.length * 2, `${served.requests} requests`);
  } finally {
    await fn.close();
  }
});

test("messages to oneself, in a cycle between two types and delayed ones are each applied once; the job ends when none is left", async () => {
  const out = join(t.dir, "patterns");
  const started = Date.now();
  const res = await cluster.runJob(join(packageRoot(), "test/fixtures/actor-patterns-job.ts"), {
    args: ["--output", out, "--chains", "6", "--hops", "200", "--delayed", "3", "--delay-ms", "100"],
    parallelism: 2,
    timeoutMs: 60_000,
  });
  assert.equal(res.state, "FINISHED", JSON.stringify(res.failure));
  assert.deepEqual(committedLines(out).sort(), expectedPatterns(6, 200, 3));
  // Three delays of 100 ms one after the other: the job cannot have ended sooner.
  assert.ok(Date.now() - started >= 300, "delayed messages were waited for");
});
