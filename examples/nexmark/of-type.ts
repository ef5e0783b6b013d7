/** The events of one type out of Nexmark's stream of all events. */
import type { DataStream } from "eddy";
import type { NexmarkEvent } from "./events.js";

/**
 * The one kind of event `type` of the stream: a filter, so that the events keep their timestamps
 * (the windows of q5, q7 and q8 need them).
 */
export function ofType<E extends NexmarkEvent>(events: DataStream<NexmarkEvent>, type: E["type"]): DataStream<E> {
  return events.filter((e) => e.type === type) as unknown as DataStream<E>;
}
