/** Rows of big labelled numbers (the overview's and the checkpoint counts). */
import { h, setText } from "./dom.js";

/** A row of labelled numbers that update in place. */
export function statCards(items: Array<[key: string, label: string]>): { el: HTMLElement; set(key: string, text: string): void } {
  const values = new Map<string, HTMLElement>();
  const el = h(
    "div",
    { class: "cards" },
    ...items.map(([key, label]) => {
      const v = h("div", { class: "value", "data-stat": key }, "–");
      values.set(key, v);
      return h("div", { class: "card" }, v, h("div", { class: "label" }, label));
    }),
  );
  return { el, set: (key, text) => values.get(key) && setText(values.get(key)!, text) };
}
