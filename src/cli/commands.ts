/** The `eddy` command table: every command, its positionals and flags (docs/cli.md). */
import type { CommandSpec, FlagSpec, PositionalSpec } from "./args.js";
import { id } from "../schema/check.js";

const nats: FlagSpec = { type: "string", value: "URL", help: "NATS server URL (default: EDDY_NATS_URL, else nats://127.0.0.1:4222)" };
const context: FlagSpec = {
  type: "string",
  value: "FILE",
  help: "NATS context file with the URL and credentials (default: EDDY_CONTEXT; --nats overrides its URL)",
};
const json: FlagSpec = { type: "boolean", help: "print JSON instead of a table" };
const define: FlagSpec = {
  type: "string",
  repeatable: true,
  value: "KEY=VALUE",
  help: "a Flink configuration key of the job (-D KEY=VALUE or -DKEY=VALUE, repeatable; overrides what main sets; keys in docs/jobgraph.md)",
};
const webPort: FlagSpec = {
  type: "int",
  min: -1,
  max: 65535,
  value: "P",
  help: "HTTP port of the REST API and dashboard (default 8081, a free one when taken; 0 picks a free port; -1 turns it off)",
};
const webHost: FlagSpec = { type: "string", value: "H", help: "address the HTTP server listens on (default 127.0.0.1)" };
const webToken: FlagSpec = {
  type: "string",
  value: "T",
  help: "bearer token every write (and reads from other hosts) must send (default: EDDY_WEB_TOKEN, which other users cannot read in ps; none: only loopback clients)",
};
/** A JOBID is checked here as the Dispatcher would, so that a mistyped one is a usage error. */
const isJobId = (v: string): boolean => {
  try {
    id(v, "JOBID");
    return true;
  } catch {
    return false;
  }
};
const jobId = (required: boolean): PositionalSpec => ({ name: "JOBID", required, accepts: { what: "a job id (32 lowercase hex digits)", test: isJobId } });

/** Every command `eddy` knows. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "cluster",
    summary: "start a local session cluster: nats-server, one JobManager, N TaskExecutors",
    positionals: [],
    flags: {
      "task-executors": { type: "int", min: 0, max: 256, value: "N", help: "TaskExecutor processes to start (default 2)" },
      slots: { type: "int", min: 1, max: 1024, value: "S", help: "slots per TaskExecutor (default 2)" },
      nats: { ...nats, help: "use this NATS server instead of starting one" },
      context: { ...context, help: "with --nats: the context to connect with; the children use jobmanager.json and worker.json beside it when present" },
      insecure: { type: "boolean", help: "start nats-server without authorization (anyone who reaches it may do anything)" },
      port: { type: "int", min: 0, max: 65535, value: "P", help: "port of the nats-server started here (default 4222; 0 picks a free port)" },
      "data-dir": { type: "string", value: "DIR", help: "JetStream store directory (default: a temporary directory removed on exit)" },
      reactive: { type: "boolean", help: "run the JobManager in reactive mode (jobs scale to the TaskExecutors available)" },
      "web-port": webPort,
      "web-host": webHost,
    },
    exclusive: [
      ["nats", "port"],
      ["nats", "data-dir"],
      ["nats", "insecure"],
    ],
  },
  {
    name: "jobmanager",
    summary: "run one JobManager process (Dispatcher, ResourceManager, a JobMaster per job)",
    positionals: [],
    flags: {
      nats,
      context,
      reactive: { type: "boolean", help: "reactive mode: jobs scale to the TaskExecutors available" },
      scheduler: { type: "string", choices: ["default", "adaptive"], value: "default|adaptive", help: "scheduler of new jobs (default: default)" },
      "web-port": webPort,
      "web-host": webHost,
      "web-token": webToken,
    },
  },
  {
    name: "taskexecutor",
    summary: "run one TaskExecutor process (a worker with S slots)",
    positionals: [],
    flags: { nats, context, slots: { type: "int", min: 1, max: 1024, value: "S", help: "number of slots (default 2)" } },
  },
  {
    name: "run",
    summary: "bundle the job in FILE, ship its code, submit it and (attached) wait for its end",
    positionals: [{ name: "FILE", required: true, file: true }],
    flags: {
      nats,
      context,
      parallelism: { type: "int", min: 1, max: 32768, value: "N", help: "default parallelism of the job's operators (wins over -D parallelism.default)" },
      D: define,
      detached: { type: "boolean", help: "exit once the Dispatcher accepted the job" },
      "from-savepoint": { type: "string", value: "ID", help: "start from this savepoint" },
      application: {
        type: "boolean",
        help: "application mode: only bundle and upload here; the job's main runs on the cluster (the Dispatcher builds the JobGraph)",
      },
    },
    passThrough: true,
  },
  {
    name: "plan",
    summary: "print the JobGraph the job in FILE builds, as JSON (no cluster needed)",
    positionals: [{ name: "FILE", required: true, file: true }],
    flags: {
      parallelism: { type: "int", min: 1, max: 32768, value: "N", help: "default parallelism of the job's operators (wins over -D parallelism.default)" },
      D: define,
    },
    passThrough: true,
  },
  { name: "list", summary: "list jobs, running and finished", positionals: [], flags: { nats, context, json } },
  { name: "status", summary: "show one job: vertices, subtasks, checkpoints", positionals: [jobId(true)], flags: { nats, context, json } },
  { name: "cancel", summary: "cancel a job and wait until it is CANCELED", positionals: [jobId(true)], flags: { nats, context } },
  {
    name: "savepoint",
    summary: "trigger a savepoint of JOBID (--stop: stop with savepoint), or --dispose ID",
    positionals: [jobId(false)],
    flags: {
      nats,
      context,
      stop: { type: "boolean", help: "stop the job after the savepoint" },
      dispose: { type: "string", value: "ID", help: "delete the savepoint ID" },
    },
  },
  {
    name: "rescale",
    summary: "declare a vertex's parallelism of a running job on the adaptive scheduler (--parallelism N, or --min/--max bounds)",
    positionals: [jobId(true)],
    flags: {
      nats,
      context,
      vertex: { type: "string", value: "ID", help: "the vertex (as submitted; a chained one names its chain)" },
      parallelism: { type: "int", min: 1, max: 32768, value: "N", help: "run the vertex at exactly N (min = max = N)" },
      min: { type: "int", min: 1, max: 32768, value: "N", help: "lower bound of the vertex's parallelism" },
      max: { type: "int", min: 1, max: 32768, value: "N", help: "upper bound of the vertex's parallelism" },
    },
    exclusive: [
      ["parallelism", "min"],
      ["parallelism", "max"],
    ],
  },
  {
    name: "init",
    summary: "scaffold a job project in DIR that uses Eddy as a package: a job, its test on a mini cluster, a README",
    positionals: [{ name: "DIR", required: true }],
    flags: {},
  },
  {
    name: "secure",
    summary: "secure init DIR: credentials per role (and with --tls certificates) for a NATS the operator runs",
    positionals: [
      { name: "ACTION", required: true, accepts: { what: "init", test: (v) => v === "init" } },
      { name: "DIR", required: true },
    ],
    flags: {
      "nats-url": { type: "string", value: "URL", help: "the URL the contexts name (default nats://127.0.0.1:4222)" },
      tls: { type: "boolean", help: "also write a CA, a server certificate and a client certificate per role (mutual TLS)" },
    },
  },
  { name: "info", summary: "show the cluster: leaders, TaskExecutors and the web address", positionals: [], flags: { nats, context, json } },
];
