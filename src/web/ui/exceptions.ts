/**
 * The exceptions tab: the job's failures, newest first, with the root cause, time, task and location;
 * each expands to its stack trace. Reloaded when the job restarted or changed state.
 */
import { api } from "./api.js";
import { h, replaceChildren, setText } from "./dom.js";
import * as f from "./format.js";
import type { Tab } from "./tab.js";
import type { ExceptionEntry, JobDetails, JobExceptions } from "./types.js";

export function exceptionsTab(jid: string): Tab {
  const list = h("div", { class: "exceptions" });
  const err = h("p", { class: "error" });
  const el = h("div", { class: "tab" }, err, list);
  let seen = "";
  let loaded = "";
  const load = async (key: string) => {
    try {
      const x = await api.get<JobExceptions>(`jobs/${jid}/exceptions`);
      loaded = key;
      setText(err, "");
      render(x.exceptionHistory?.entries ?? []);
    } catch (e) {
      setText(err, (e as Error).message);
    }
  };
  const render = (entries: ExceptionEntry[]) => {
    if (entries.length === 0) {
      replaceChildren(list, h("p", { class: "dim" }, "No exceptions: the job has not failed."));
      return;
    }
    const sorted = [...entries].sort((a, b) => b.timestamp - a.timestamp);
    replaceChildren(
      list,
      ...sorted.map((e) =>
        h(
          "details",
          { class: "exception" },
          h(
            "summary",
            {},
            h("span", { class: "when" }, f.time(e.timestamp)),
            h("span", { class: "what" }, rootCause(e)),
            h("span", { class: "where dim" }, [e.taskName, e.location].filter(Boolean).join(" @ ") || "job"),
          ),
          h("pre", {}, e.stacktrace || e.exceptionName),
        ),
      ),
    );
  };
  return {
    el,
    job(j: JobDetails) {
      // A new failure shows as a restart or a state change; the list is reloaded only then.
      seen = `${j.state}/${j.numRestarts ?? 0}`;
      if (seen !== loaded) void load(seen);
    },
    show() {
      if (seen) void load(seen);
    },
  };
}

/** The most specific line of a failure: the last "Caused by" of its trace, else its name. */
function rootCause(e: ExceptionEntry): string {
  const lines = (e.stacktrace ?? "").split("\n");
  const causes = lines.filter((l) => l.startsWith("Caused by: ")).map((l) => l.slice("Caused by: ".length));
  return causes.at(-1) ?? (e.exceptionName || lines[0] || "exception");
}
