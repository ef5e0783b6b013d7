/**
 * The dashboard's entry: the header with its navigation and live indicator, the router that mounts
 * one view per hash route, and the one live stream that feeds the mounted view.
 */
import "./style.css";
import { LiveFeed, type LiveStatus } from "./api.js";
import { h, setAttr, setText } from "./dom.js";
import { jobView } from "./job.js";
import { jobsView } from "./jobs.js";
import { overviewView } from "./overview.js";
import { parseRoute, type Route } from "./router.js";
import { taskManagersView, taskManagerView } from "./taskmanagers.js";
import { takeTokenFromAddress } from "./token.js";
import type { View } from "./view.js";

const live = h("span", { class: "live", "data-status": "connecting", title: "live updates from /events" }, "connecting");
const links = new Map<string, HTMLAnchorElement>();
const nav = h(
  "nav",
  { class: "main-nav" },
  ...[
    ["overview", "Overview"],
    ["jobs", "Jobs"],
    ["taskmanagers", "TaskExecutors"],
  ].map(([k, label]) => {
    const a = h("a", { class: "nav-link", href: `#/${k}` }, label!);
    links.set(k!, a);
    return a;
  }),
);
const main = h("main", { id: "view" });
document.body.append(h("header", {}, h("a", { class: "brand", href: "#/overview" }, "Eddy"), nav, live), main);

const LIVE_TEXT: Record<LiveStatus, string> = { connecting: "connecting", live: "live", reconnecting: "reconnecting…", unauthorized: "token needed" };
const feed = new LiveFeed((s) => {
  setText(live, LIVE_TEXT[s]);
  setAttr(live, "data-status", s);
});

let view: View | undefined;
/** The job page shown, if any: another tab of the same job keeps it (its graph and state). */
let jobPage: { jid: string; page: ReturnType<typeof jobView> } | undefined;

function mount(r: Route): View {
  jobPage = undefined;
  switch (r.view) {
    case "jobs":
      return jobsView();
    case "job": {
      const page = jobView(r.jid, r.tab);
      jobPage = { jid: r.jid, page };
      return page;
    }
    case "taskmanagers":
      return taskManagersView();
    case "taskmanager":
      return taskManagerView(r.id);
    default:
      return overviewView();
  }
}

function navigate(): void {
  const r = parseRoute(location.hash);
  const section = r.view === "job" ? "jobs" : r.view === "taskmanager" ? "taskmanagers" : r.view;
  for (const [k, a] of links) a.classList.toggle("active", k === section);
  if (r.view === "job" && jobPage?.jid === r.jid) {
    jobPage.page.showTab(r.tab);
    return;
  }
  view?.dispose?.();
  document.title = "Eddy";
  view = mount(r);
  main.replaceChildren(view.el);
  feed.follow(view.followJob, view.live);
}

window.addEventListener("hashchange", navigate);
takeTokenFromAddress();
if (!location.hash) history.replaceState(null, "", "#/overview");
navigate();
