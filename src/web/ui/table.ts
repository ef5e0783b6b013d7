/**
 * A table whose rows are keyed: an update reuses the row of each key and changes only the cells whose
 * text changed, so a table refreshed every second keeps its DOM (and the user's text selection).
 */
import { h, setText } from "./dom.js";

export interface Column<R> {
  title: string;
  /** CSS class of the header and cells (`num` right-aligns). */
  class?: string;
  /** The cell's text. */
  text?: (row: R) => string;
  /** Builds the cell's content once per row; returns what updates it for a newer row. */
  build?: (td: HTMLTableCellElement, row: R) => (row: R) => void;
}

interface Row<R> {
  tr: HTMLTableRowElement;
  update: Array<(row: R) => void>;
}

export class KeyedTable<R> {
  /** The table in a box that scrolls sideways when the table is wider than the page. */
  readonly el: HTMLDivElement;
  readonly table: HTMLTableElement;
  private readonly body: HTMLTableSectionElement;
  private readonly rows = new Map<string, Row<R>>();
  private readonly empty: HTMLTableRowElement;

  constructor(
    private readonly columns: Column<R>[],
    private readonly key: (row: R) => string,
    emptyText = "nothing to show",
  ) {
    this.body = h("tbody");
    this.empty = h("tr", { class: "empty" }, h("td", { colspan: columns.length }, emptyText));
    this.table = h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { class: c.class }, c.title)))), this.body);
    this.el = h("div", { class: "table-wrap" }, this.table);
    this.body.append(this.empty);
  }

  /** Shows exactly `rows`, in this order. */
  update(rows: readonly R[]): void {
    const seen = new Set<string>();
    let prev: Element | null = null;
    for (const r of rows) {
      const k = this.key(r);
      seen.add(k);
      let row = this.rows.get(k);
      if (row) for (const u of row.update) u(r);
      else {
        row = this.create(r);
        this.rows.set(k, row);
      }
      const want: Element | null = prev ? prev.nextElementSibling : this.body.firstElementChild;
      if (want !== row.tr) this.body.insertBefore(row.tr, want);
      prev = row.tr;
    }
    for (const [k, row] of this.rows) {
      if (!seen.has(k)) {
        row.tr.remove();
        this.rows.delete(k);
      }
    }
    if (rows.length === 0) {
      if (!this.empty.isConnected) this.body.append(this.empty);
    } else this.empty.remove();
  }

  private create(r: R): Row<R> {
    const tr = h("tr", { "data-key": this.key(r) });
    const update: Array<(row: R) => void> = [];
    for (const c of this.columns) {
      const td = h("td", { class: c.class });
      tr.append(td);
      if (c.build) update.push(c.build(td, r));
      else if (c.text) {
        const text = c.text;
        td.textContent = text(r);
        update.push((row) => setText(td, text(row)));
      }
    }
    return { tr, update };
  }
}

/** A column cell holding a link whose text and target follow the row. */
export function linkCell<R>(text: (r: R) => string, href: (r: R) => string): Column<R>["build"] {
  return (td, r) => {
    const a = h("a", { href: href(r) }, text(r));
    td.append(a);
    return (row) => {
      setText(a, text(row));
      const target = href(row);
      if (a.getAttribute("href") !== target) a.setAttribute("href", target);
    };
  };
}
