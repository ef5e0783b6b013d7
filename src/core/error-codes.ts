/**
 * Every error code Eddy answers with, each with the one line a user reads in docs/error-codes.md.
 * Never rename a code: clients match on the strings. A leaf module (it imports nothing), so that
 * every folder can name codes without pulling in anything else.
 */

/** Each code and what it tells a user: what happened, and whether retrying helps. */
export const ERROR_CODE_DESCRIPTIONS = {
  // Requests and job graphs
  MalformedRequest:
    "A request, argument or option is not well formed (bad JSON/MessagePack, a missing or invalid field); nothing was changed. Fix the request; retrying it as is fails again.",
  PayloadTooLarge:
    "A request body is larger than the limit of its method; nothing was changed. Send less (or ship code as a bundle); retrying as is fails again.",
  InvalidJobGraph: "The JobGraph (or a vertex's config) breaks a rule; the message names the field. Fix the job; retrying as is fails again.",
  UnknownInvokable: "A vertex names an invokable that neither the cluster nor the job's bundle provides. Fix the name or ship the bundle that defines it.",
  CyclicJobGraph: "The JobGraph's edges form a cycle; a JobGraph must be acyclic. Fix the edges.",
  DanglingEdge: "An edge names a vertex the JobGraph does not have. Declare the vertex or fix the edge.",
  InvalidParallelism: "A parallelism, max parallelism or rescale bound is out of range. Pick a value inside the range the message gives.",
  // Jobs
  DuplicateJobId: "A job with this id is already submitted or finished; nothing was changed. Submit under another id.",
  JobNotFound: "No job with this id is known to the cluster. Check the id.",
  JobResultNotReady: "The job is still running, so it has no result yet. Ask again later.",
  JobAlreadyTerminal: "The job already finished, failed or was cancelled; the request cannot apply to it any more.",
  JobInitializing: "The job is still being set up by its JobMaster. Retry in a moment.",
  VertexNotFound: "A rescale names a vertex the job does not have. Check the vertex id.",
  RescaleNotSupported: "The job's scheduler cannot change its parallelism (only the adaptive scheduler can); the job was not changed.",
  // Leadership, fencing and RPC
  FencingTokenMismatch:
    "A message carried a missing or stale fencing token (it came from an old leader or session) and was refused. The sender must reconnect to the current leader.",
  NotLeader: "The component asked no longer leads. Retrying reaches the new leader once it is elected.",
  UnknownMethod: "The component has no method of this name (a client and cluster of different versions?). Retrying does not help.",
  UnknownSender: "The sender is not registered with the component (it was lost or restarted). It must register again; the runtime does this itself.",
  RpcTimeout: "A request or wait did not complete in time (the component is slow, busy or gone). Retrying may help.",
  NoResponders: "Nobody serves the subject asked: the component is not running (yet). Retrying after it starts helps.",
  ClusterUnreachable: "The NATS server could not be reached or the connection failed. Check the URL and that NATS runs; retrying may help.",
  // Security
  NotAuthenticated:
    "The NATS server refused the connection's credentials (none given, a wrong user or password, or a client certificate it does not trust). Use a valid context (--context or EDDY_CONTEXT).",
  PermissionDenied:
    "The NATS server refused this operation to the connection's role (a permissions violation); nothing was done. Use the context of a role allowed to do it.",
  Unauthorized: "The web server needs `Authorization: Bearer <token>` for this request (every write, and reads from other hosts than loopback).",
  // Slots, tasks and data exchange
  SlotNotFound: "A slot or allocation named by a request does not exist (any more) on the TaskExecutor: it was freed, or the TaskExecutor restarted.",
  SlotAllocationFailed: "Not enough slots could be acquired in time. Start more TaskExecutors or lower the parallelism.",
  TaskNotFound: "A task attempt named by a request is not running on the TaskExecutor (it finished, failed or was never deployed).",
  IllegalStateTransition:
    "A state machine (job, execution, scheduler) was asked for a transition it does not have at this point; the request came at the wrong time.",
  RecordTooLarge: "One record is larger than the largest frame the network stack sends; the task fails. Make the record smaller.",
  PartitionNotFound:
    "A task's input partition does not exist or its producer is gone; the consuming task fails and the failover strategy decides how the job recovers.",
  RemoteLinkInterrupted:
    "A task lost its NATS server while it exchanged data with another TaskExecutor; data may be lost, so the task fails and the failover restores it from a checkpoint.",
  TaskFailed: "A task failed (its code threw, or its output could not be stored); the failover strategy decides whether the job restarts.",
  RemoteFunctionFailed:
    "A remote actor function answered with an error, with a reply that breaks the protocol, or not in time; nothing of the reply was applied. The task fails and replays from its last checkpoint.",
  UnknownActorType: "A message was addressed to an actor type the application does not define; the task fails. Register the type or fix the address.",
  TaskExecutorLost: "A TaskExecutor stopped answering heartbeats; its tasks fail and the failover strategy decides how the job recovers.",
  // State, checkpoints and savepoints
  InvalidStateAccess:
    "A job's function used keyed or operator state in a way state does not support (an unsupported key or value, one name as two kinds of state). Fix the job; retrying fails again.",
  StateNotFound:
    "A state object, checkpoint or savepoint named by a handle or id does not exist. Check the id; a checkpoint may have been subsumed and deleted.",
  StateCorrupt:
    "Stored state cannot be read back as written (size, digest or contents wrong). Restore from another checkpoint or savepoint; retrying the same one fails again.",
  CheckpointStorageFailed: "The checkpoint store could not be written, read or cleaned (a NATS or JetStream failure). Retrying may help.",
  SavepointNotFound: "No savepoint with this id is stored. Check the id.",
  DuplicateCheckpoint: "A checkpoint or savepoint with this id is already stored with other contents; nothing was overwritten.",
  // User code
  BundleNotFound: "A bundle named by a JobGraph, an application or a task is not in the bundle store. Upload it again.",
  BundleCorrupt: "A bundle's bytes do not hash to its id, or their size is not the recorded one. Upload it again.",
  BundleTooLarge: "A bundle is larger than 256 MiB. Leave data out of the bundle; retrying fails again.",
  BundleStorageFailed: "The bundle store could not be read or written (a NATS failure). Retrying may help.",
  UserCodeFailed:
    "The job's own code failed where the cluster ran it: its bundle did not load, its main threw or returned no JobGraph, or its invokables are malformed. Fix the job.",
  ApplicationTimeout: "An application's main did not return its JobGraph in time and was stopped. Make main return sooner or raise the timeout.",
  // HTTP (the JobManager's web server)
  UnknownPath: "The web server has no resource at this path. Check the URL against docs/rest.md.",
  MethodNotAllowed: "The resource does not take this HTTP method; the Allow header lists the ones it takes.",
  WebServerFailed: "The JobManager's web server could not listen on the address asked (port taken, address not local). Pick another --web-port or --web-host.",
  Unavailable: "The web server cannot answer now: no Dispatcher leads yet, or it serves the most live connections it allows. Retrying in a moment helps.",
  // Processes
  NatsServerFailed: "A local nats-server could not be found, started or made ready (not installed, port taken, bad config). The message says which.",
  Shutdown: "The component is shutting down; the request was not carried out. Retry against a running one.",
  InternalError: "An unexpected failure inside Eddy (a bug, or an error from a peer this version does not know). Retrying may help; report it if it repeats.",
} as const satisfies Record<string, string>;

/** Every error code Eddy answers with. */
export type ErrorCode = keyof typeof ERROR_CODE_DESCRIPTIONS;

/** The codes by name: `ErrorCode.JobNotFound === "JobNotFound"`. */
export const ErrorCode: { readonly [K in ErrorCode]: K } = Object.freeze(
  Object.fromEntries(Object.keys(ERROR_CODE_DESCRIPTIONS).map((k) => [k, k])) as { [K in ErrorCode]: K },
);

/** True when `v` is one of Eddy's error codes (a code read from the wire is checked with this). */
export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === "string" && Object.hasOwn(ERROR_CODE_DESCRIPTIONS, v);
}

/** `v` when it is an error code, InternalError otherwise (a peer's code this version does not know). */
export function errorCodeOr(v: unknown): ErrorCode {
  return isErrorCode(v) ? v : "InternalError";
}
