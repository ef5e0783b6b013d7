/**
 * The `eddy` command line: parses the arguments, runs one command, returns its exit code
 * (0 success, 1 refused or job FAILED/CANCELED, 2 usage error, 3 cluster unreachable).
 */
import { COMMANDS } from "./commands.js";
import { commandUsage, generalUsage, parseArgs, UsageError, type ParsedArgs } from "./args.js";
import { Exit, processIo, type Io } from "./io.js";
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
  if (args.help) {
    const spec = COMMANDS.find((c) => c.name === args.command);
    io.out(spec ? commandUsage(spec) : generalUsage(COMMANDS));
    return Exit.Ok;
  }
  if (args.command === "version") {
    io.out(`eddy ${packageVersion()}`);
    return Exit.Ok;
  }
  const load = HANDLERS[args.command];
  if (!load) {
    io.err(`eddy: command '${args.command}' is not implemented`);
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
