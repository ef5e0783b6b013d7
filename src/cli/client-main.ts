/**
 * The commands that only ask a running cluster (and usage, and the version): the entry of the
 * command's client bundle, which bin/eddy.js loads with a V8 code cache for these commands
 * (src/cli/launch.cts), so that they answer within 150 ms of process start. The daemons, `run` and
 * the file-writing commands are not in its module graph.
 */
import { commandLine, type Handlers } from "./dispatch.js";

/** The client commands; `CLIENT_COMMANDS` in launch.cts names the same ones. */
export const CLIENT_HANDLERS: Handlers = {
  list: async () => (await import("./job-commands.js")).listCommand,
  status: async () => (await import("./job-commands.js")).statusCommand,
  cancel: async () => (await import("./job-commands.js")).cancelCommand,
  savepoint: async () => (await import("./job-commands.js")).savepointCommand,
  info: async () => (await import("./job-commands.js")).infoCommand,
  rescale: async () => (await import("./job-commands.js")).rescaleCommand,
};

export const { main, run } = commandLine(CLIENT_HANDLERS);
