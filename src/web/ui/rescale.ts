/**
 * The rescale tab (adaptive scheduler): a parallelism per vertex, sent as the job's resource
 * requirements (`PUT /jobs/:jid/resource-requirements`). A refusal (a job under the default
 * scheduler, a parallelism above the vertex's maximum) is shown with the server's message.
 */
import { api } from "./api.js";
import { h, replaceChildren, setText } from "./dom.js";
import type { Tab } from "./tab.js";
import type { JobDetails, JobVertex } from "./types.js";
import { TERMINAL_STATES } from "./view.js";

export function rescaleTab(jid: string): Tab {
  const rows = h("tbody");
  const result = h("p", { class: "result", role: "status" });
  const apply = h("button", { type: "button", class: "primary", "data-action": "rescale" }, "Apply");
  const el = h(
    "div",
    { class: "tab rescale" },
    h("p", { class: "dim" }, "Sets the upper bound of each vertex's parallelism; the adaptive scheduler rescales the job to it as slots allow."),
    h(
      "table",
      { class: "grid narrow" },
      h("thead", {}, h("tr", {}, h("th", {}, "Vertex"), h("th", { class: "num" }, "Current"), h("th", { class: "num" }, "Max"), h("th", {}, "Desired"))),
      rows,
    ),
    h("div", { class: "buttons" }, apply),
    result,
  );
  const inputs = new Map<string, HTMLInputElement>();
  const current = new Map<string, HTMLElement>();
  let shape = "";

  const build = (vs: JobVertex[]) => {
    inputs.clear();
    current.clear();
    replaceChildren(
      rows,
      ...vs.map((v) => {
        const input = h("input", { type: "number", min: 1, max: v.maxParallelism ?? 32768, value: v.parallelism, "data-vertex-id": v.id });
        const cur = h("td", { class: "num" }, String(v.parallelism));
        inputs.set(v.id, input);
        current.set(v.id, cur);
        return h("tr", {}, h("td", {}, v.name), cur, h("td", { class: "num" }, String(v.maxParallelism ?? "–")), h("td", {}, input));
      }),
    );
  };

  apply.addEventListener("click", async () => {
    const body: Record<string, { parallelism: { lowerBound: number; upperBound: number } }> = {};
    for (const [vid, input] of inputs) {
      const n = Number(input.value);
      if (!Number.isInteger(n) || n < 1) {
        setText(result, `Parallelism must be a positive integer (vertex ${vid}).`);
        result.dataset.kind = "error";
        return;
      }
      body[vid] = { parallelism: { lowerBound: 1, upperBound: n } };
    }
    apply.disabled = true;
    try {
      await api.put(`jobs/${jid}/resource-requirements`, body);
      setText(result, "Accepted: the scheduler rescales the job as slots allow.");
      result.dataset.kind = "ok";
    } catch (e) {
      setText(result, `Refused: ${(e as Error).message}`);
      result.dataset.kind = "error";
    } finally {
      apply.disabled = false;
    }
  });

  return {
    el,
    job(j: JobDetails) {
      const s = j.vertices.map((v) => v.id).join(",");
      if (s !== shape) {
        shape = s;
        build(j.vertices);
      }
      for (const v of j.vertices) {
        const c = current.get(v.id);
        if (c) setText(c, String(v.parallelism));
      }
      apply.disabled = TERMINAL_STATES.has(j.state);
    },
  };
}
