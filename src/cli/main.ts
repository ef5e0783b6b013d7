/**
 * The `eddy` command line: parses the arguments, runs one command, returns its exit code
 * (0 success, 1 refused or job FAILED/CANCELED, 2 usage error, 3 cluster unreachable).
 */
import { statSync } from "node:fs";
import { COMMANDS } from "./commands.js";
import { commandUsage, generalUsage, parseArgs, UsageError, type CommandSpec, type ParsedArgs } from "./args.js";
import { Exit, exitWhenFlushed, processIo, type Io } from "./io.js";
import { resolvePrefix } from "../core/config.js";
import { packageVersion } from "../cluster/paths.js";
import { ValidationError } from "../core/errors.js";

type Handler = (args: ParsedArgs, io: Io) => Promise<number>;

/** Command name → implementation, loaded lazily so that a client command starts fast. */
const HANDLERS: Record<string, () => Promise<Handler>> = {
  cluster: async () => (await import("./cluster-command.js")).clusterCommand,
  jobmanager: async () => (await import("./daemon-commands.js")).jobManagerCommand,
  taskexecutor: async () => (await import("./daemon-commands.js")).taskExecutorCommand,
  run: async () => (await import("./run-command.js")).runCommand,
  plan: async () => (await import("./plan-command.js")).planCommand,
  list: async () => (await import("./job-commands.js")).listCommand,
  status: async () => (await import("./job-commands.js")).statusCommand,
  cancel: async () => (await import("./job-commands.js")).cancelCommand,
  savepoint: async () => (await import("./job-commands.js")).savepointCommand,
  info: async () => (await import("./job-commands.js")).infoCommand,
  rescale: async () => (await import("./job-commands.js")).rescaleCommand,
  secure: async () => (await import("./secure-command.js")).secureCommand,
  init: async () => (await import("./init-command.js")).initCommand,
};

/** Runs the command line `argv` (without node and script) and resolves with the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv, COMMANDS);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`eddy: ${err.message}`);
    const spec = COMMANDS.find((c) => c.name === err.command);
    io.err("");
    io.err(spec ? commandUsage(spec) : generalUsage(COMMANDS));
    return Exit.Usage;
  }
  const spec = COMMANDS.find((c) => c.name === args.command);
  if (args.help) {
    io.out(spec ? commandUsage(spec) : generalUsage(COMMANDS));
    return Exit.Ok;
  }
  if (args.command === "version") {
    io.out(`eddy ${packageVersion()}`);
    return Exit.Ok;
  }
  const load = HANDLERS[args.command];
  if (!spec || !load) {
    io.err(`eddy: command '${args.command}' is not implemented`);
    return Exit.Usage;
  }
  // The environment and the files named are checked here, so that a mistake in them is a usage
  // error (exit 2) whatever the command, not a refusal or a failure halfway through.
  const bad = badEnvironment() ?? missingFile(spec, args);
  if (bad !== undefined) {
    io.err(`eddy: ${bad}`);
    return Exit.Usage;
  }
  const handler = await load();
  try {
    return await handler(args, io);
  } catch (err) {
    // Commands report their own failures; anything reaching here is a bug or a bad environment
    // (an invalid EDDY_PREFIX: a ValidationError).
    const e = err as Error;
    if (e instanceof ValidationError) {
      io.err(`eddy: ${e.message}`);
      return Exit.Usage;
    }
    io.err(`error InternalError: ${e instanceof Error ? (e.stack ?? e.message) : String(err)}`);
    return Exit.Refused;
  }
}

/** Why the environment cannot be used (an EDDY_PREFIX that is not a subject token), if it cannot. */
function badEnvironment(): string | undefined {
  try {
    resolvePrefix();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Why a FILE positional of `spec` cannot be read as a job file, if it cannot. */
function missingFile(spec: CommandSpec, args: ParsedArgs): string | undefined {
  for (const [i, p] of spec.positionals.entries()) {
    const path = args.positionals[i];
    if (!p.file || path === undefined) continue;
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return `job file '${path}' does not exist`;
      continue; // unreadable for another reason: the command reports it with its code
    }
    if (!stat.isFile()) return `job file '${path}' is not a regular file`;
  }
  return undefined;
}

/**
 * The process entry (`bin/eddy.js`): runs `argv` and exits with its code once stdout and stderr
 * are flushed, so that output written to a pipe arrives whole whatever the reader's pace.
 */
export async function run(argv: readonly string[]): Promise<never> {
  // A reader that closes early (`eddy list | head -1`) is not the command's failure.
  const ignore = () => undefined;
  process.stdout.on("error", ignore);
  process.stderr.on("error", ignore);
  let code: number;
  try {
    code = await main(argv);
  } catch (err) {
    processIo.err(`error InternalError: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    code = Exit.Refused;
  }
  return exitWhenFlushed(code);
}
