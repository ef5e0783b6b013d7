/**
 * The `eddy` command line, every command: the entry of the command's ES module bundle (bin/eddy.js
 * runs it for every command the client bundle does not) and of the tests that run a command line in
 * process.
 */
import { CLIENT_HANDLERS } from "./client-main.js";
import { commandLine, type Handlers } from "./dispatch.js";

/** Command name → implementation, loaded lazily so that a command loads only its own modules. */
const HANDLERS: Handlers = {
  ...CLIENT_HANDLERS,
  cluster: async () => (await import("./cluster-command.js")).clusterCommand,
  jobmanager: async () => (await import("./daemon-commands.js")).jobManagerCommand,
  taskexecutor: async () => (await import("./daemon-commands.js")).taskExecutorCommand,
  run: async () => (await import("./run-command.js")).runCommand,
  plan: async () => (await import("./plan-command.js")).planCommand,
  secure: async () => (await import("./secure-command.js")).secureCommand,
  init: async () => (await import("./init-command.js")).initCommand,
};

export const { main, run } = commandLine(HANDLERS);
