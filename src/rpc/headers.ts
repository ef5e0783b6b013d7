/** NATS headers used by the actor kernel. */
export const Header = {
  /** The fencing token the sender believes the receiver (or the session) holds. */
  Fence: "Eddy-Fence",
  /** Who sends: a TaskExecutor id, a JobMaster's job id... (unverified identity, checked with the token). */
  Sender: "Eddy-Sender",
  /** Set on replies that carry `{error}`. */
  Error: "Eddy-Error",
  ContentType: "Content-Type",
  /** On error replies, for NATS micro clients (ADR-32): the error message, one line. */
  ServiceError: "Nats-Service-Error",
  /** On error replies, for NATS micro clients: 500 for InternalError, 400 for any refusal. */
  ServiceErrorCode: "Nats-Service-Error-Code",
} as const;
