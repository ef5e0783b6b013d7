/** Confirmation before an action that changes a job, and the notices that report how it went. */
import { h } from "./dom.js";

/** Asks in a modal dialog; resolves true when the user confirmed. */
export function confirmAction(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ok = h("button", { class: "danger", type: "button", "data-action": "confirm" }, confirmLabel);
    const cancel = h("button", { type: "button", "data-action": "dismiss" }, "Keep running");
    const dlg = h("dialog", { class: "confirm" }, h("h3", {}, title), h("p", {}, text), h("div", { class: "buttons" }, cancel, ok));
    const finish = (v: boolean) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    ok.addEventListener("click", () => finish(true));
    cancel.addEventListener("click", () => finish(false));
    dlg.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      finish(false);
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
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
