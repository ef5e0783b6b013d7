/**
 * What bin/eddy.js runs: picks the entry for the command line and runs it. A client command (one that
 * only asks a running cluster, or usage, or the version) runs from the client bundle with its V8 code
 * cache; every other command from the ES module bundle (src/core/bundles.cts says which and when).
 *
 * CommonJS, as bin/eddy.js is: a process whose entry is an ES module first loads Node's ES module
 * loader, some 9 ms that a client command need not pay.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bundleIsFresh, cliEntry, CLI_BUNDLE_DIR } from "../core/bundles.cjs";
import { requireWithCodeCache } from "../core/code-cache.cjs";

/**
 * The file in the command's bundle directory that holds only the client commands, as CommonJS, so
 * that it can be loaded with a code cache (src/core/code-cache.cts).
 */
export const CLIENT_BUNDLE = "client.cjs";

/** The commands the client bundle runs (client-main.ts has their implementations). */
export const CLIENT_COMMANDS: ReadonlySet<string> = new Set(["list", "status", "cancel", "savepoint", "info", "rescale"]);

/** First arguments that print usage or the version (args.ts's `parseArgs`), which the client bundle does too. */
const USAGE_ARGUMENTS: ReadonlySet<string> = new Set(["help", "--help", "-h", "--version", "-V"]);

/** What an entry of the command exports. */
export interface CliModule {
  run(argv: readonly string[]): Promise<unknown>;
}

/** True when `argv` only asks for usage or the version. */
function isUsageLine(argv: readonly string[]): boolean {
  const first = argv[0];
  return first === undefined || USAGE_ARGUMENTS.has(first);
}

/** True when the client bundle can run the command line `argv`. */
export function isClientCommandLine(argv: readonly string[]): boolean {
  return isUsageLine(argv) || CLIENT_COMMANDS.has(argv[0] ?? "");
}

/**
 * The entry that runs `argv`: for a client command the client bundle with its code cache (while it
 * is fresh and EDDY_CLI is not `modules`), else the module `cliEntry` names.
 */
export async function loadCli(dist: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliModule> {
  const client = join(dist, CLI_BUNDLE_DIR, CLIENT_BUNDLE);
  if (env.EDDY_CLI !== "modules" && isClientCommandLine(argv) && bundleIsFresh(client, dist)) {
    // Usage compiles a fraction of what a command asking the cluster does: its cache would hold that
    // fraction, and the commands after it would compile the rest at every start.
    return requireWithCodeCache(client, !isUsageLine(argv)) as CliModule;
  }
  return (await import(pathToFileURL(cliEntry(dist, env)).href)) as CliModule;
}

/**
 * Runs the command line `argv` from the entry that suits it (`dist` is the package's build
 * directory): what bin/eddy.js does.
 */
export async function launch(dist: string, argv: readonly string[]): Promise<void> {
  const cli = await loadCli(dist, argv);
  await cli.run(argv);
}
