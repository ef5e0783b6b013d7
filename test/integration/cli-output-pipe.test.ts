/**
 * Output of the real `eddy` process written into a pipe whose reader is slow arrives whole: the
 * process exits only once stdout and stderr are flushed. A pipe holds 64 KiB and the parent's
 * stream buffers 64 KiB more, so outputs of a few hundred KiB would be cut by an early exit.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { eddyBin, packageRoot } from "../../src/cluster/paths.js";

const work = mkdtempSync(join(tmpdir(), "eddy-cli-pipe-"));
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * How long the reader stays away when the writer has not exited: a writer that exits without
 * waiting for its output has done so by then (`eddy plan` takes well under a second).
 */
const HOLD_MS = 4_000;

const env = { ...process.env, EDDY_NATS_URL: "nats://127.0.0.1:1", EDDY_LOG_LEVEL: "warn" };

/** Runs `eddy <args>` with `stream` redirected to a file: its bytes and the exit code. */
async function toFile(args: string[], stream: "stdout" | "stderr"): Promise<{ bytes: Buffer; code: number | null }> {
  const path = join(work, `${stream}-${Date.now()}.out`);
  const fd = openSync(path, "w");
  try {
    const child = spawn(process.execPath, [eddyBin(), ...args], {
      cwd: packageRoot(),
      env,
      stdio: ["ignore", stream === "stdout" ? fd : "ignore", stream === "stderr" ? fd : "ignore"],
    });
    const code = await exitCode(child, 60_000);
    return { bytes: readFileSync(path), code };
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs `eddy <args>` with `stream` into a pipe nobody reads until the process exited or HOLD_MS
 * passed, then reads it to the end: the bytes that arrived and the exit code.
 */
async function throughSlowPipe(args: string[], stream: "stdout" | "stderr"): Promise<{ bytes: Buffer; code: number | null }> {
  const child = spawn(process.execPath, [eddyBin(), ...args], {
    cwd: packageRoot(),
    env,
    stdio: ["ignore", stream === "stdout" ? "pipe" : "ignore", stream === "stderr" ? "pipe" : "ignore"],
  });
  const exited = exitCode(child, 60_000);
  await Promise.race([exited, sleep(HOLD_MS)]);
  const chunks: Buffer[] = [];
  for await (const chunk of child[stream]!) chunks.push(chunk as Buffer);
  return { bytes: Buffer.concat(chunks), code: await exited };
}

function exitCode(child: ReturnType<typeof spawn>, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`eddy did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

test("stdout into a slow pipe arrives whole: eddy plan of a wide job (~300 KiB of JSON)", async () => {
  const job = join(work, "wide.mjs");
  writeFileSync(
    job,
    `export default () => {
      const vertices = [{ id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 10 } }];
      const edges = [];
      for (let i = 0; i < 900; i++) {
        vertices.push({ id: "step-" + i, name: "step " + i + " " + "of a wide job ".repeat(15), invokable: "op.identity", parallelism: 1 });
        edges.push({ source: i === 0 ? "src" : "step-" + (i - 1), target: "step-" + i, partitioner: "forward" });
      }
      vertices.push({ id: "sink", invokable: "sink.discard", parallelism: 1 });
      edges.push({ source: "step-899", target: "sink", partitioner: "forward" });
      return { name: "wide", vertices, edges };
    };\n`,
  );
  const file = await toFile(["plan", job], "stdout");
  assert.equal(file.code, 0);
  assert.ok(file.bytes.length > 300 * 1024, `plan output of ${file.bytes.length} bytes is larger than the pipe and the reader's buffer`);
  const piped = await throughSlowPipe(["plan", job], "stdout");
  assert.equal(piped.code, 0);
  assert.equal(piped.bytes.length, file.bytes.length, "every byte reached the pipe's reader");
  assert.ok(piped.bytes.equals(file.bytes));
});

test("stderr into a slow pipe arrives whole: a 300 KB error message", async () => {
  const job = join(work, "throws.mjs");
  writeFileSync(job, `export default () => { throw new Error("cannot build: " + "x".repeat(300000)); };\n`);
  const file = await toFile(["plan", job], "stderr");
  assert.equal(file.code, 1);
  assert.match(file.bytes.toString("utf8", 0, 200), /^error \w+: /);
  const piped = await throughSlowPipe(["plan", job], "stderr");
  assert.equal(piped.code, 1);
  assert.equal(piped.bytes.length, file.bytes.length, "every byte reached the pipe's reader");
});
