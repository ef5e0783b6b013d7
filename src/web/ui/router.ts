/** The hash routes of the dashboard (#/overview, #/jobs, #/jobs/<jid>[/<tab>], #/taskmanagers[/<id>]). */
import { JOB_TABS, type JobTab } from "./job.js";

export type Route =
  | { view: "overview" }
  | { view: "jobs" }
  | { view: "job"; jid: string; tab: JobTab }
  | { view: "taskmanagers" }
  | { view: "taskmanager"; id: string };

export function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, "")
    .split("/")
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
  const [a, b, c] = parts;
  if (a === "jobs" && b) return { view: "job", jid: b, tab: (JOB_TABS as readonly string[]).includes(c ?? "") ? (c as JobTab) : "subtasks" };
  if (a === "jobs") return { view: "jobs" };
  if (a === "taskmanagers" && b) return { view: "taskmanager", id: b };
  if (a === "taskmanagers") return { view: "taskmanagers" };
  return { view: "overview" };
}
