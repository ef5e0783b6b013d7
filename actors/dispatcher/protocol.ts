/** Requests of the Dispatcher's public NATS API (CONTRACT.md), each checked at the boundary. */
import { s, type Infer } from "../../src/schema/index.js";

/** `{jobId}`: the body of requestJob and cancelJob. */
export const JobIdRequest = s.object({ jobId: s.id });
export type JobIdRequest = Infer<typeof JobIdRequest>;

/** `{jobId, timeoutMs?}`: requestJobResult waits up to timeoutMs (default 0: answer at once). */
export const JobResultRequest = s.object({ jobId: s.id, timeoutMs: s.optional(s.int({ min: 0, max: 600_000 })) });
export type JobResultRequest = Infer<typeof JobResultRequest>;

/** One row of `listJobs` / `eddy list --json`. */
export interface JobOverview {
  id: string;
  name: string;
  state: string;
  startTime: number;
  endTime: number | null;
}
