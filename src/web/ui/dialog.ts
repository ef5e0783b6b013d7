/** Confirmation before an action that changes a job, the web token prompt, and the notices that report how it went. */
import { h } from "./dom.js";

/** Asks in a modal dialog; resolves true when the user confirmed. */
export function confirmAction(title: string, text: string, confirmLabel: string): Promise<boolean> {
  const ok = h("button", { class: "danger", type: "button", "data-action": "confirm" }, confirmLabel);
  const cancel = h("button", { type: "button", "data-action": "dismiss" }, "Keep running");
  const dlg = h("dialog", { class: "confirm" }, h("h3", {}, title), h("p", {}, text), h("div", { class: "buttons" }, cancel, ok));
  return showModal(dlg, cancel, false, (finish) => {
    ok.addEventListener("click", () => finish(true));
    cancel.addEventListener("click", () => finish(false));
  });
}

/**
 * Asks for the JobManager's web token in a modal dialog (a password field), saying why (`reason`: the
 * server's refusal); resolves with what was typed, or undefined when the user declined.
 */
export function askTokenDialog(reason: string): Promise<string | undefined> {
  const input = h("input", { type: "password", autocomplete: "off", spellcheck: "false", "aria-label": "web token" });
  const ok = h("button", { class: "primary", type: "button", "data-action": "use-token" }, "Use token");
  const cancel = h("button", { type: "button", "data-action": "dismiss" }, "Cancel");
  const dlg = h(
    "dialog",
    { class: "token" },
    h("h3", {}, "Web token needed"),
    h("p", { class: "reason" }, reason),
    h("p", { class: "dim" }, "The JobManager's --web-token (or EDDY_WEB_TOKEN). This tab keeps it until it is closed."),
    input,
    h("div", { class: "buttons" }, cancel, ok),
  );
  return showModal<string | undefined>(dlg, input, undefined, (finish) => {
    const use = () => (input.value.trim() ? finish(input.value.trim()) : input.focus());
    ok.addEventListener("click", use);
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") use();
    });
    cancel.addEventListener("click", () => finish(undefined));
  });
}

/** Shows `dlg` as a modal dialog until `wire`'s buttons call `finish` (Escape finishes with `dismissed`); then removes it. */
function showModal<T>(dlg: HTMLDialogElement, focus: HTMLElement, dismissed: T, wire: (finish: (v: T) => void) => void): Promise<T> {
  return new Promise((resolve) => {
    const finish = (v: T) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    wire(finish);
    dlg.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      finish(dismissed);
    });
    document.body.append(dlg);
    dlg.showModal();
    focus.focus();
  });
}

export type NoticeKind = "info" | "ok" | "error";

/** A notice at the top right; one that is not an error goes away by itself. Returns an updater. */
export function notice(text: string, kind: NoticeKind = "info"): (text: string, kind?: NoticeKind) => void {
  let host = document.getElementById("notices");
  if (!host) {
    host = h("div", { id: "notices", role: "status", "aria-live": "polite" });
    document.body.append(host);
  }
  const close = h("button", { class: "close", type: "button", title: "dismiss" }, "×");
  const body = h("span", {});
  const el = h("div", { class: "notice" }, body, close);
  let timer: ReturnType<typeof setTimeout> | undefined;
  close.addEventListener("click", () => {
    clearTimeout(timer);
    el.remove();
  });
  const set = (t: string, k: NoticeKind = "info") => {
    body.textContent = t;
    el.setAttribute("data-kind", k);
    clearTimeout(timer);
    if (k === "ok") timer = setTimeout(() => el.remove(), 15_000);
  };
  set(text, kind);
  host.append(el);
  return set;
}
