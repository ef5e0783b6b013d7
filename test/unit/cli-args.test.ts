/** The `eddy` argument parser and the usage/exit-code behaviour of main(). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, UsageError, commandUsage, generalUsage } from "../../src/cli/args.js";
import { COMMANDS } from "../../src/cli/commands.js";
import { main } from "../../src/cli/main.js";
import { exitCodeOf, isTransportError } from "../../src/cli/client.js";
import { EddyError, ErrorCode, TimeoutError, errorFromWire } from "../../src/core/errors.js";
import { formatDuration, table } from "../../src/cli/format.js";
import type { Io } from "../../src/cli/io.js";

const parse = (...argv: string[]) => parseArgs(argv, COMMANDS);

function usageError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && re.test(e.message));
}

function captureIo(): Io & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (l) => void outLines.push(l), err: (l) => void errLines.push(l) };
}

test("flags: separate and = values, ints, switches, last wins", () => {
  const a = parse("cluster", "--task-executors", "3", "--slots=4", "--port", "0", "--reactive", "--slots", "5");
  assert.equal(a.command, "cluster");
  assert.deepEqual(a.flags, { "task-executors": 3, slots: 5, port: 0, reactive: true });
  assert.deepEqual(a.positionals, []);
  assert.deepEqual(a.rest, []);
  assert.equal(a.help, false);
});

test("run: FILE, flags on either side, everything after -- untouched", () => {
  const a = parse("run", "--parallelism", "2", "job.ts", "--detached", "--", "--input", "in.txt", "--parallelism", "9", "--", "x");
  assert.deepEqual(a.positionals, ["job.ts"]);
  assert.deepEqual(a.flags, { parallelism: 2, detached: true });
  assert.deepEqual(a.rest, ["--input", "in.txt", "--parallelism", "9", "--", "x"]);
  assert.deepEqual(parse("run", "job.ts", "--").rest, []);
  assert.equal(parse("run", "job.ts", "--from-savepoint", "sp1").flags["from-savepoint"], "sp1");
});

test("a value may look like a negative number or contain '='", () => {
  assert.equal(parse("list", "--nats", "nats://a:1,nats://b:2").flags.nats, "nats://a:1,nats://b:2");
  assert.equal(parse("list", "--nats=nats://h:4222?x=y").flags.nats, "nats://h:4222?x=y");
  usageError(() => parse("run", "f.ts", "--parallelism", "-1"), /between 1 and 32768, got -1/);
});

test("-D is a short repeatable flag: -D KEY=VALUE and -DKEY=VALUE, in order, before -- only", () => {
  const a = parse("run", "-D", "a.b=1", "job.ts", "-Dc.d=x=y", "--parallelism", "2", "-D", "a.b=3", "--", "-D", "job.arg=1");
  assert.deepEqual(a.flags, { D: ["a.b=1", "c.d=x=y", "a.b=3"], parallelism: 2 });
  assert.deepEqual(a.positionals, ["job.ts"]);
  assert.deepEqual(a.rest, ["-D", "job.arg=1"], "a -D after -- is the job's");
  assert.deepEqual(parse("plan", "job.ts", "-Dk=v").flags, { D: ["k=v"] });
  assert.equal(parse("run", "job.ts").flags.D, undefined);
  assert.match(commandUsage(COMMANDS.find((c) => c.name === "run")!), /\[-D KEY=VALUE\]\.\.\./);
});

test("short flags: a missing value, a one-letter long flag and an unknown letter are usage errors", () => {
  usageError(() => parse("run", "job.ts", "-D"), /flag '-D' needs a value/);
  usageError(() => parse("run", "job.ts", "-D", "--", "x"), /flag '-D' needs a value/);
  usageError(() => parse("run", "job.ts", "-D", "-Dk=v"), /flag '-D' needs a value/);
  usageError(() => parse("run", "job.ts", "--D", "k=v"), /unknown flag '--D'/);
  usageError(() => parse("run", "job.ts", "-X", "k=v"), /unknown flag '-X'/);
  usageError(() => parse("list", "-Dk=v"), /unknown flag '-Dk=v' for 'eddy list'/);
});

test("usage errors", () => {
  usageError(() => parse(), /no command/);
  usageError(() => parse("frobnicate"), /unknown command 'frobnicate'/);
  usageError(() => parse("--json"), /expected a command/);
  usageError(() => parse("list", "--bogus"), /unknown flag '--bogus'/);
  usageError(() => parse("list", "-x"), /unknown flag '-x'/);
  usageError(() => parse("list", "extra"), /unexpected argument 'extra'/);
  usageError(() => parse("run"), /missing FILE/);
  usageError(() => parse("run", "a.ts", "b.ts"), /job arguments go after '--'/);
  usageError(() => parse("status"), /missing JOBID/);
  usageError(() => parse("cancel"), /missing JOBID/);
  usageError(() => parse("list", "--", "x"), /no arguments after '--'/);
  usageError(() => parse("list", "--json=yes"), /takes no value/);
  usageError(() => parse("list", "--nats"), /needs a value/);
  usageError(() => parse("list", "--nats", "--json"), /needs a value/);
  usageError(() => parse("list", "--nats="), /non-empty/);
  usageError(() => parse("cluster", "--slots", "two"), /whole number/);
  usageError(() => parse("cluster", "--slots", "0"), /between 1 and 1024, got 0/);
  usageError(() => parse("cluster", "--port", "70000"), /between 0 and 65535/);
  usageError(() => parse("cluster", "--nats", "nats://x:1", "--port", "5"), /--nats and --port exclude each other/);
  usageError(() => parse("jobmanager", "--scheduler", "fancy"), /one of default, adaptive/);
  usageError(() => parse("help", "nope"), /unknown command 'nope'/);
  assert.equal(parse("jobmanager", "--scheduler", "adaptive", "--reactive").flags.scheduler, "adaptive");
});

test("the UsageError names its command so main can show that command's usage", () => {
  try {
    parse("status", "--what");
    assert.fail("expected a UsageError");
  } catch (e) {
    assert.ok(e instanceof UsageError);
    assert.equal(e.command, "status");
  }
});

test("help and version", () => {
  assert.equal(parse("--help").help, true);
  assert.equal(parse("help").command, "");
  assert.deepEqual({ c: parse("help", "run").command, h: parse("help", "run").help }, { c: "run", h: true });
  assert.equal(parse("status", "--help").help, true, "--help needs no JOBID");
  assert.equal(parse("--version").command, "version");
  for (const c of COMMANDS) assert.match(commandUsage(c), new RegExp(`^usage: eddy ${c.name}`));
  assert.match(generalUsage(COMMANDS), /Exit codes: 0 success/);
});

test("main: usage errors exit 2 and print the usage on stderr, help exits 0", async () => {
  for (const argv of [[], ["bogus"], ["list", "--bogus"], ["run"], ["status"], ["cluster", "--slots", "x"]]) {
    const io = captureIo();
    assert.equal(await main(argv, io), 2, `eddy ${argv.join(" ")}`);
    assert.deepEqual(io.outLines, []);
    assert.match(io.errLines.join("\n"), /usage: eddy/);
  }
  const io = captureIo();
  assert.equal(await main(["help", "cluster"], io), 0);
  assert.match(io.outLines.join("\n"), /--task-executors N/);
  const v = captureIo();
  assert.equal(await main(["--version"], v), 0);
  assert.match(v.outLines[0]!, /^eddy \d+\.\d+\.\d+/);
});

test("main: a job file that does not exist, or is a directory, is a usage error (exit 2) before anything runs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "eddy-cli-file-"));
  try {
    for (const [argv, re] of [
      [["run", join(dir, "missing.ts"), "--nats", "nats://127.0.0.1:1"], /^eddy: job file '.*missing\.ts' does not exist$/],
      [["plan", join(dir, "missing.ts")], /^eddy: job file '.*missing\.ts' does not exist$/],
      [["plan", join(dir, "nodir", "job.ts")], /does not exist/],
      [["run", dir, "--application"], /^eddy: job file '.*' is not a regular file$/],
    ] as const) {
      const io = captureIo();
      assert.equal(await main(argv, io), 2, `eddy ${argv.join(" ")}`);
      assert.deepEqual(io.outLines, []);
      assert.match(io.errLines[0]!, re);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("main: an EDDY_PREFIX that is not a subject token is a usage error (exit 2) for every command", async (t) => {
  const saved = process.env.EDDY_PREFIX;
  process.env.EDDY_PREFIX = "a b";
  t.after(() => {
    if (saved === undefined) delete process.env.EDDY_PREFIX;
    else process.env.EDDY_PREFIX = saved;
  });
  for (const argv of [
    ["list", "--nats", "nats://127.0.0.1:1"],
    ["status", "0123456789abcdef0123456789abcdef", "--nats", "nats://127.0.0.1:1"],
    ["jobmanager", "--nats", "nats://127.0.0.1:1"],
  ]) {
    const io = captureIo();
    assert.equal(await main(argv, io), 2, `eddy ${argv.join(" ")}`);
    assert.match(io.errLines.join("\n"), /^eddy: EDDY_PREFIX must match/);
  }
});

test("a JOBID that cannot be a job id is a usage error, found before any connection", async () => {
  for (const argv of [
    ["status", "abc"],
    ["cancel", "0123456789ABCDEF0123456789ABCDEF"],
    ["savepoint", "x", "--stop"],
    ["rescale", "1234", "--vertex", "v", "--parallelism", "2"],
  ]) {
    usageError(() => parse(...argv), /^JOBID must be a job id \(32 lowercase hex digits\), got '/);
    const io = captureIo();
    assert.equal(await main([...argv, "--nats", "nats://127.0.0.1:1"], io), 2, `eddy ${argv.join(" ")}: exit 2, not 3 (NATS was not tried)`);
    assert.match(io.errLines.join("\n"), /usage: eddy /);
  }
  assert.equal(parse("status", "0123456789abcdef0123456789abcdef").positionals[0], "0123456789abcdef0123456789abcdef");
  assert.equal(parse("savepoint", "--dispose", "sp-1").positionals.length, 0, "an absent optional JOBID is not checked");
});

test("main: a NATS URL that is not a URL, or a malformed EDDY_ADAPTIVE_* setting, is a usage error (exit 2)", async (t) => {
  for (const argv of [
    ["list", "--nats", "not a url"],
    ["info", "--nats", "nats://:::"],
  ]) {
    const io = captureIo();
    assert.equal(await main(argv, io), 2, `eddy ${argv.join(" ")}`);
    assert.match(io.errLines.join("\n"), /Invalid URL/);
  }
  process.env.EDDY_ADAPTIVE_STABILIZATION_MS = "-5";
  t.after(() => delete process.env.EDDY_ADAPTIVE_STABILIZATION_MS);
  const io = captureIo();
  assert.equal(await main(["jobmanager", "--nats", "nats://127.0.0.1:1"], io), 2);
  assert.match(io.errLines.join("\n"), /^eddy: EDDY_ADAPTIVE_STABILIZATION_MS must be an integer >= 0, got -5$/m);
});

test("main: savepoint needs a JOBID or --dispose (exit 2); with one it needs the cluster (exit 3)", async () => {
  const io = captureIo();
  assert.equal(await main(["savepoint"], io), 2);
  assert.match(io.errLines.join("\n"), /JOBID, or --dispose/);
  const io2 = captureIo();
  assert.equal(await main(["savepoint", "0123456789abcdef0123456789abcdef", "--nats", "nats://127.0.0.1:1"], io2), 3);
});

test("main: an unreachable NATS exits 3 with error ClusterUnreachable", async () => {
  const io = captureIo();
  assert.equal(await main(["list", "--nats", "nats://127.0.0.1:1"], io), 3);
  assert.match(io.errLines.join("\n"), /^error ClusterUnreachable: /m);
});

test("exit codes: transport failures are 3, refusals from the cluster are 1", () => {
  const local = new TimeoutError("no answer", { cause: new Error("TIMEOUT") });
  const remote = errorFromWire({ code: ErrorCode.RpcTimeout, message: "slow TE", name: "TimeoutError" });
  assert.equal(isTransportError(local), true);
  assert.equal(isTransportError(remote), false);
  assert.equal(exitCodeOf(new EddyError(ErrorCode.ClusterUnreachable, "x"), true), 3);
  assert.equal(exitCodeOf(new EddyError(ErrorCode.NoResponders, "x"), false), 3);
  assert.equal(exitCodeOf(local, false), 3, "timeout on first contact");
  assert.equal(exitCodeOf(local, true), 1, "timeout after an answer");
  assert.equal(exitCodeOf(remote, false), 1, "a remote timeout is an answer");
  assert.equal(exitCodeOf(new EddyError(ErrorCode.JobNotFound, "x"), true), 1);
  assert.equal(exitCodeOf(new Error("boom"), true), 1);
});

test("format: tables align, durations read well", () => {
  assert.deepEqual(
    table(
      ["A", "BB"],
      [
        ["xxx", "y"],
        ["z", "wwww"],
      ],
    ),
    ["A    BB", "xxx  y", "z    wwww"],
  );
  assert.equal(formatDuration(52), "52 ms");
  assert.equal(formatDuration(2_201), "2.2 s");
  assert.equal(formatDuration(125_000), "2 min 05 s");
  assert.equal(formatDuration(null), "-");
});

test("EDDY_HEARTBEAT_TIMEOUT_MS sets the heartbeat timeout; a malformed or too short one is refused", async () => {
  const { heartbeatTimeoutFromEnv } = await import("../../src/cli/daemon-commands.js");
  assert.equal(heartbeatTimeoutFromEnv({}), undefined);
  assert.equal(heartbeatTimeoutFromEnv({ EDDY_HEARTBEAT_TIMEOUT_MS: "" }), undefined);
  assert.equal(heartbeatTimeoutFromEnv({ EDDY_HEARTBEAT_TIMEOUT_MS: "4000" }), 4000);
  for (const bad of ["1999", "4s", "2500.5", "-1"])
    assert.throws(
      () => heartbeatTimeoutFromEnv({ EDDY_HEARTBEAT_TIMEOUT_MS: bad }),
      (e: unknown) => e instanceof EddyError && e.code === ErrorCode.MalformedRequest && /EDDY_HEARTBEAT_TIMEOUT_MS/.test(e.message),
    );
});

test("EDDY_SWEEP_INTERVAL_MS sets how often ended jobs' checkpoint keys are swept; a malformed or too short one is refused", async () => {
  const { sweepIntervalFromEnv } = await import("../../src/cli/daemon-commands.js");
  assert.equal(sweepIntervalFromEnv({}), undefined);
  assert.equal(sweepIntervalFromEnv({ EDDY_SWEEP_INTERVAL_MS: "5000" }), 5000);
  for (const bad of ["999", "5s", "1000.5"])
    assert.throws(
      () => sweepIntervalFromEnv({ EDDY_SWEEP_INTERVAL_MS: bad }),
      (e: unknown) => e instanceof EddyError && e.code === ErrorCode.MalformedRequest && /EDDY_SWEEP_INTERVAL_MS/.test(e.message),
    );
});
