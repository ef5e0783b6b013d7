/**
 * A cluster on the operator's NATS, set up by `eddy secure init DIR --tls`: the server takes the
 * written authorization and mutual-TLS blocks (`verify: true`), a JobManager and a TaskExecutor run
 * with the jobmanager and worker contexts, and WordCount submitted with the client context runs end
 * to end over TLS. A context without its client certificate is refused (exit 3); init refuses to
 * replace credentials.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authOf, readContext } from "../../src/security/context.js";
import { runEddy, spawnEddy, type EddyProcess } from "../helpers/eddy-process.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { committedLines } from "../helpers/keyed-counter.js";
import { waitFor } from "../../src/core/time.js";

const work = mkdtempSync(join(tmpdir(), "eddy-secure-init-"));
const dir = join(work, "secure");
const prefix = `init${process.pid}`;
const ctx = (role: string) => join(dir, "contexts", `${role}.json`);
let nats: TestNats;
const procs: EddyProcess[] = [];
let initOutput = "";

before(async () => {
  const init = await runEddy(["secure", "init", dir, "--tls"], { prefix, natsUrl: "nats://127.0.0.1:1" });
  assert.equal(init.code, 0, init.stderr);
  initOutput = init.stdout;
  // The server's config holds both blocks (an include resolves relative to the config: inlined here).
  const conf = `${readFileSync(join(dir, "nats-auth.conf"), "utf8")}\n${readFileSync(join(dir, "nats-tls.conf"), "utf8")}`;
  nats = await startTestNats({ conf, probeAuth: authOf(readContext(ctx("admin"))) });
  procs.push(spawnEddy(["jobmanager", "--nats", nats.url, "--context", ctx("jobmanager"), "--web-port", "-1"], { prefix }));
  procs.push(spawnEddy(["taskexecutor", "--nats", nats.url, "--context", ctx("worker"), "--slots", "2"], { prefix }));
  // The tests submit at once: the JobManager must serve and the TaskExecutor be registered first.
  await waitFor(
    async () => {
      const r = await runEddy(["info", "--json", "--nats", nats.url, "--context", ctx("client")], { prefix, timeoutMs: 20_000 });
      return r.code === 0 && (JSON.parse(r.stdout) as { taskExecutors: unknown[] }).taskExecutors.length >= 1;
    },
    60_000,
    "the JobManager answering over TLS with the TaskExecutor registered",
    100,
  );
});

after(async () => {
  for (const p of procs) await p.stop(15_000).catch(() => p.kill());
  await nats?.stop();
  rmSync(work, { recursive: true, force: true });
});

test("eddy secure init --tls prints the lines to add to the server's config", () => {
  assert.match(initOutput, /^ {2}include "nats-auth\.conf"$/m);
  assert.match(initOutput, /^ {2}include "nats-tls\.conf"$/m);
  const client = readContext(ctx("client"));
  assert.ok(client.ca && client.cert && client.key, "a TLS context names the CA and its role's certificate and key");
  assert.match(readFileSync(join(dir, "nats-tls.conf"), "utf8"), /verify: true/);
});

test("over mutual TLS with verify, WordCount submitted with the client context runs on processes under their roles", async () => {
  const input = join(work, "in.txt");
  writeFileSync(input, "tls and roles and tls\n");
  const r = await runEddy(
    ["run", "examples/wordcount.ts", "--nats", nats.url, "--context", ctx("client"), "--", "--input", input, "--output", join(work, "out")],
    {
      prefix,
      timeoutMs: 90_000,
    },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(committedLines(join(work, "out")).sort(), ["and 2", "roles 1", "tls 2"]);
});

test("a context without its client certificate is refused by the server: exit 3", async () => {
  const { cert: _cert, key: _key, ...rest } = readContext(ctx("client"));
  const noCert = join(work, "no-cert.json");
  writeFileSync(noCert, JSON.stringify(rest));
  const r = await runEddy(["list", "--nats", nats.url, "--context", noCert], { prefix, timeoutMs: 30_000 });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /^error NotAuthenticated: /m);
});

test("eddy secure init refuses a directory that holds credentials already (exit 1), changing nothing", async () => {
  const before = readFileSync(join(dir, "nats-auth.conf"), "utf8");
  const again = await runEddy(["secure", "init", dir], { prefix, natsUrl: "nats://127.0.0.1:1" });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds credentials/);
  assert.equal(readFileSync(join(dir, "nats-auth.conf"), "utf8"), before);
});
