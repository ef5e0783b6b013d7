/**
 * The actions that change a running job: cancel, savepoint, stop with a savepoint. Each asks for
 * confirmation first and reports its result in a notice (a savepoint's location once it completed).
 */
import { ApiError, api } from "./api.js";
import { confirmAction, notice } from "./dialog.js";
import { h } from "./dom.js";
import type { SavepointStatus } from "./types.js";

const SAVEPOINT_POLL_MS = 500;
const SAVEPOINT_GIVE_UP_MS = 10 * 60_000;

/** Asks, then cancels the job (`PATCH /jobs/:jid?mode=cancel`). */
export async function cancelJob(jid: string, name: string): Promise<void> {
  if (!(await confirmAction("Cancel job?", `Cancel ${name} (${jid})? Its tasks stop without a savepoint.`, "Cancel job"))) return;
  const say = notice(`Cancelling ${name}...`);
  try {
    await api.patch(`jobs/${jid}?mode=cancel`);
    say(`Cancel requested for ${name}.`, "ok");
  } catch (err) {
    say(`Cancel of ${name} refused: ${(err as Error).message}`, "error");
  }
}

/** Asks, then triggers a savepoint (with `cancelJob` stop-with-savepoint) and follows it to its end. */
export async function savepoint(jid: string, name: string, cancelJob: boolean): Promise<void> {
  const title = cancelJob ? "Stop with savepoint?" : "Trigger a savepoint?";
  const text = cancelJob
    ? `Take a savepoint of ${name} (${jid}) and cancel it once the savepoint completed?`
    : `Take a savepoint of ${name} (${jid})? The job keeps running.`;
  if (!(await confirmAction(title, text, cancelJob ? "Stop with savepoint" : "Trigger savepoint"))) return;
  const what = cancelJob ? "Stop-with-savepoint" : "Savepoint";
  const say = notice(`${what} of ${name}: triggering...`);
  let requestId: string;
  try {
    requestId = (await api.post<{ "request-id": string }>(`jobs/${jid}/savepoints`, { "cancel-job": cancelJob }))["request-id"];
  } catch (err) {
    say(`${what} of ${name} refused: ${(err as Error).message}`, "error");
    return;
  }
  say(`${what} of ${name}: in progress (request ${requestId})...`);
  const deadline = Date.now() + SAVEPOINT_GIVE_UP_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, SAVEPOINT_POLL_MS));
    let st: SavepointStatus;
    try {
      st = await api.get<SavepointStatus>(`jobs/${jid}/savepoints/${encodeURIComponent(requestId)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 0) continue; // no answer this time: ask again
      say(`${what} of ${name}: ${(err as Error).message}`, "error");
      return;
    }
    if (st.status.id !== "COMPLETED") continue;
    const cause = st.operation?.["failure-cause"];
    if (cause) {
      const msg =
        typeof cause === "string"
          ? cause
          : `${cause.code ? `${cause.code}: ` : ""}${cause.message ?? cause["stack-trace"]?.split("\n")[0] ?? cause.class ?? "failed"}`;
      say(`${what} of ${name} failed: ${msg}`, "error");
    } else say(`${what} of ${name} completed: ${st.operation?.location ?? "(no location)"}`, "ok");
    return;
  }
  say(`${what} of ${name}: no result within ${SAVEPOINT_GIVE_UP_MS / 60_000} minutes (request ${requestId})`, "error");
}

/** The three action buttons of a job; `running` says whether they are enabled. */
export function jobActions(jid: () => string, name: () => string): { el: HTMLElement; setRunning(running: boolean): void } {
  const mk = (label: string, action: string, run: () => Promise<void>) =>
    h("button", { type: "button", class: action === "cancel" ? "danger" : "", "data-action": action, onclick: () => void run() }, label);
  const buttons = [
    mk("Savepoint", "savepoint", () => savepoint(jid(), name(), false)),
    mk("Stop with savepoint", "stop", () => savepoint(jid(), name(), true)),
    mk("Cancel", "cancel", () => cancelJob(jid(), name())),
  ];
  return {
    el: h("span", { class: "actions" }, ...buttons),
    setRunning(running) {
      for (const b of buttons) if (b.disabled === running) b.disabled = !running;
    },
  };
}
