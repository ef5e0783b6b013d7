/**
 * Stateful actors (src/actor-sdk, the operator eddy.actors.dispatch) on a mini cluster: the bank
 * example with local and remote accounts, messages to oneself and in cycles, delayed messages, and
 * bad remote replies.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { MiniCluster } from "../../src/testing/index.js";
import { ErrorCode } from "../../src/core/errors.js";
import type { ExceptionHistoryView } from "../../schemas/dispatcher-api.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { buildJob } from "../../src/sdk/load-job.js";
import { waitFor } from "../../src/core/time.js";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { committedLines } from "../helpers/keyed-counter.js";
import { checkApplied, expectedPatterns, transfers, writeTransfers } from "../helpers/bank.js";
import { answer, serveAccounts } from "../../examples/bank-function.js";
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
    // A hop takes a round of the feedback loop (about 50 ms): 60 hops span several checkpoints (500 ms apart).
    args: ["--output", out, "--chains", "6", "--hops", "60", "--delayed", "3", "--delay-ms", "100"],
    parallelism: 2,
    timeoutMs: 60_000,
  });
  assert.equal(res.state, "FINISHED", JSON.stringify(res.failure));
  assert.deepEqual(committedLines(out).sort(), expectedPatterns(6, 60, 3));
  // Three delays of 100 ms one after the other: the job cannot have ended sooner.
  assert.ok(Date.now() - started >= 300, "delayed messages were waited for");
});

test("a bad remote reply fails the task with RemoteFunctionFailed, nothing of it applied; the request is sent again and the balances are exact", async () => {
  const ts = transfers(300, 8, 5);
  const input = t.file("transfers-bad.jsonl");
  writeTransfers(input, ts);
  // undefined: no answer at all (the request times out).
  const bad: Array<[string, (req: { address: { id: string } }) => string | undefined, RegExp]> = [
    ["no answer", () => undefined, /did not answer within 500 ms/],
    ["error", () => JSON.stringify({ error: { code: "Unavailable", message: "try later" } }), /answered an error: Unavailable: try later/],
    ["not JSON", () => "{oops", /something that is not JSON/],
    ["wrong address", () => JSON.stringify({ state: { balance: 1 }, send: [{ to: { type: "loan", id: "1" }, body: 1 }] }), /to the type "loan"/],
    ["no state", () => JSON.stringify({ send: [] }), /without "state"/],
  ];
  for (const [kind, reply, message] of bad) {
    const fn = await connectNats(cluster.url, `bad-${kind}`);
    const seen = new Map<string, number>();
    let first: string | undefined;
    fn.subscribe(`${cluster.prefix}.fn.account`, {
      queue: "account",
      callback: (err, msg) => {
        if (err) return;
        const req = JSON.parse(new TextDecoder().decode(msg.data));
        const id = req.address.id as string;
        seen.set(id, (seen.get(id) ?? 0) + 1);
        // The first request is answered badly, every other one well.
        if (first === undefined) {
          first = id;
          const r = reply(req);
          if (r !== undefined) msg.respond(new TextEncoder().encode(r));
        } else msg.respond(new TextEncoder().encode(JSON.stringify(answer(req))));
      },
    });
    try {
      const out = join(t.dir, `bad-${kind.replace(" ", "-")}`);
      const { spec, bundle } = await buildJob(bank, ["--input", input, "--output", out, "--remote", "--remote-timeout", "500"], { parallelism: 1 });
      await cluster.client.uploadBundle(bundle.bytes);
      // The default strategy (exponential-delay) with a first backoff of 100 ms instead of 1 s.
      const jobId = await cluster.client.submit({ ...spec, config: { ...spec.config, restartStrategy: { type: "exponential-delay", initialBackoffMs: 100 } } });
      const res = await cluster.client.result(jobId, { deadlineMs: 60_000 });
      assert.equal(res.state, "FINISHED", `${kind}: ${JSON.stringify(res.failure)}`);
      checkApplied(committedLines(out), ts);
      const { entries } = await cluster.client.connection.ask<ExceptionHistoryView>("requestJobExceptions", { jobId });
      const failure = entries.find((e) => e.code === ErrorCode.RemoteFunctionFailed);
      assert.ok(failure, `${kind}: ${JSON.stringify(entries)}`);
      assert.match(failure.stacktrace, message, kind);
      assert.ok((seen.get(first!) ?? 0) >= 2, `${kind}: the refused request was sent again`);
    } finally {
      await fn.close();
    }
  }
});

test("an actor application stopped with a savepoint resumes at another parallelism with every transfer applied once", async () => {
  const ts = transfers(3_000, 30, 9);
  const input = t.file("transfers-savepoint.jsonl");
  writeTransfers(input, ts);
  const out = join(t.dir, "savepoint");
  const args = ["--input", input, "--output", out, "--rate", "1500"];
  const jobId = await cluster.client.submitJobFile(bank, { args, parallelism: 2 });
  await waitFor(
    async () => ((await cluster.client.status(jobId)).checkpoints.completed > 0 && committedLines(out).length > 0 ? true : undefined),
    30_000,
    "a checkpoint and committed output",
  );
  const savepoint = await cluster.client.savepoint(jobId, { stop: true });
  assert.equal((await cluster.client.result(jobId, { deadlineMs: 30_000 })).state, "FINISHED");
  const before = committedLines(out).length;
  assert.ok(before > 0 && before < ts.length * 2, `stopped part-way (${before} of ${ts.length * 2} lines)`);
  const { spec, bundle } = await buildJob(bank, args, { parallelism: 3 });
  await cluster.client.uploadBundle(bundle.bytes);
  const resumed = await cluster.client.submit({ ...spec, config: { ...spec.config, savepoint } });
  const res = await cluster.client.result(resumed, { deadlineMs: 60_000 });
  assert.equal(res.state, "FINISHED", JSON.stringify(res.failure));
  checkApplied(committedLines(out), ts);
});
