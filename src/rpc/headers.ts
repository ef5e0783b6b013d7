/** NATS headers used by the actor kernel. */
export const Header = {
  /** The fencing token the sender believes the receiver (or the session) holds. */
  Fence: "Eddy-Fence",
  /** Who sends: a TaskExecutor id, a JobMaster's job id... (unverified identity, checked with the token). */
  Sender: "Eddy-Sender",
  /** Set on replies that carry `{error}`. */
  Error: "Eddy-Error",
  ContentType: "Content-Type",
} as const;
