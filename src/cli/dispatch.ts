/**
 * Runs one command line against a table of command implementations: parses the arguments, prints
 * usage and version itself, checks the environment, then loads and runs the command. Returns the
 * exit code (0 success, 1 refused or job FAILED/CANCELED, 2 usage error, 3 cluster unreachable).
 * Two tables use it: every command (`main.ts`) and the commands that only ask the cluster
 * (`client-main.ts`, bundled apart so that they start fast).
 */
import { statSync } from "node:fs";
import { COMMANDS } from "./commands.js";
import { commandUsage, generalUsage, parseArgs, UsageError, type CommandSpec, type ParsedArgs } from "./args.js";
import { Exit, exitWhenFlushed, processIo, type Io } from "./io.js";
import { resolvePrefix } from "../core/config.js";
import { packageVersion } from "../cluster/paths.js";
import { ValidationError } from "../core/errors.js";

/** One command's implementation. */
export type Handler = (args: ParsedArgs, io: Io) => Promise<number>;

/** Command name → its implementation, loaded when the command runs. */
export type Handlers = Readonly<Record<string, () => Promise<Handler>>>;

/** An entry of the command line: `main` for tests and embedders, `run` for a process. */
export interface CommandLine {
  /** Runs the command line `argv` (without node and script) and resolves with the exit code. */
  main(argv: readonly string[], io?: Io): Promise<number>;
  /**
   * Runs `argv` as the process's command and exits with its code once stdout and stderr are
   * flushed, so that output written to a pipe arrives whole whatever the reader's pace.
   */
  run(argv: readonly string[]): Promise<never>;
}

/** The command line that runs the commands of `handlers`. */
export function commandLine(handlers: Handlers): CommandLine {
  return {
    main: (argv, io = processIo) => dispatch(argv, io, handlers),
    run: (argv) => runProcess(argv, handlers),
  };
}

/** Runs the command line `argv` (without node and script) and resolves with the exit code. */
async function dispatch(argv: readonly string[], io: Io, handlers: Handlers): Promise<number> {
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
  const load = handlers[args.command];
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

/** `CommandLine.run`. */
async function runProcess(argv: readonly string[], handlers: Handlers): Promise<never> {
  // A reader that closes early (`eddy list | head -1`) is not the command's failure.
  const ignore = () => undefined;
  process.stdout.on("error", ignore);
  process.stderr.on("error", ignore);
  let code: number;
  try {
    code = await dispatch(argv, processIo, handlers);
  } catch (err) {
    processIo.err(`error InternalError: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    code = Exit.Refused;
  }
  return exitWhenFlushed(code);
}
