/**
 * Layering: the folders of src/, actors/ and schemas/ import each other without cycles, so each folder
 * can be read (and tested) knowing only the folders below it.
 *
 * A folder is one directory: src/scheduler and src/scheduler/adaptive are two folders, and an arrow
 * between a folder and its own subfolder counts like any other, except the arrow of a folder's
 * index.ts that only re-exports its subfolder (`export ... from "./sub/..."`): that index is the
 * folder's public surface, not a dependency of the folder's code. Every import counts, type-only ones
 * too: a type import today is a value import after the next refactor.
 *
 * Inside one folder, files may import each other's types in a cycle, but not values: a value cycle
 * makes a module's behaviour depend on which file of the cycle is imported first.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");
const SCANNED = ["src", "actors", "schemas"];

/** One import of one file: the file it resolves to, and what kind of arrow it is. */
interface ImportEdge {
  from: string;
  to: string;
  /** Only types cross it (`import type`, `export type`, `import("...")` in a type position). */
  typeOnly: boolean;
  /** `export ... from` (a re-export). */
  reexport: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules") out.push(...sourceFiles(p));
    else if (e.isFile() && /\.(ts|mts|cts)$/.test(e.name) && !/\.d\.(ts|mts|cts)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** `./x.js` from `src/a/b.ts` as the repository path of the .ts file it names, or undefined if it is no repository file. */
function resolveSpecifier(fromFile: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const target = resolve(dirname(fromFile), spec);
  const candidates = [
    target.replace(/\.js$/, ".ts"),
    target.replace(/\.mjs$/, ".mts"),
    target.replace(/\.cjs$/, ".cts"),
    target,
    `${target}.ts`,
    join(target, "index.ts"),
  ];
  const hit = candidates.find((c) => existsSync(c) && /\.(ts|mts|cts|json)$/.test(c));
  return hit === undefined ? undefined : relative(root, hit).split(sep).join("/");
}

/** Every import, export-from and `import("...")` with a string literal in `file`. */
function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const from = relative(root, file).split(sep).join("/");
  const out: ImportEdge[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean, reexport: boolean) => {
    if (!spec || !ts.isStringLiteralLike(spec)) return;
    const to = resolveSpecifier(file, spec.text);
    if (to !== undefined) out.push({ from, to, typeOnly, reexport });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const typeOnly =
        c !== undefined &&
        (c.isTypeOnly ||
          (c.name === undefined &&
            c.namedBindings !== undefined &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, typeOnly, false);
    } else if (ts.isExportDeclaration(node)) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.length > 0 &&
          node.exportClause.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier, typeOnly, true);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(arg.literal as ts.Expression, true, false);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false, false);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const folderOf = (file: string): string => file.slice(0, file.lastIndexOf("/"));

/** True when `child` lies below `parent` (src/a/b below src/a). */
const isBelow = (child: string, parent: string): boolean => child.startsWith(`${parent}/`);

/** The folder graph: folder -> folder -> the file arrows behind it. */
function folderGraph(edges: ImportEdge[]): Map<string, Map<string, ImportEdge[]>> {
  const g = new Map<string, Map<string, ImportEdge[]>>();
  for (const e of edges) {
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a === b) continue;
    const isIndex = /\/index\.ts$/.test(e.from);
    if (isIndex && e.reexport && isBelow(b, a)) continue; // the folder's public surface re-exporting its subfolder
    let out = g.get(a);
    if (!out) g.set(a, (out = new Map()));
    let list = out.get(b);
    if (!list) out.set(b, (list = []));
    list.push(e);
  }
  return g;
}

/** Tarjan's strongly connected components with more than one node (or a self-loop). */
function cycles<T>(nodes: Iterable<T>, next: (n: T) => Iterable<T>): T[][] {
  const index = new Map<T, number>();
  const low = new Map<T, number>();
  const onStack = new Set<T>();
  const stack: T[] = [];
  const out: T[][] = [];
  let i = 0;
  const strong = (v: T): void => {
    index.set(v, i);
    low.set(v, i);
    i++;
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: T[] = [];
      let w: T;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.reverse());
    }
  };
  for (const n of nodes) if (!index.has(n)) strong(n);
  return out;
}

/** The folders on each cycle of the folder graph of `edges`. */
function folderCycles(edges: ImportEdge[]): string[][] {
  const g = folderGraph(edges);
  return cycles(g.keys(), (n) => g.get(n)?.keys() ?? []);
}

const files = SCANNED.flatMap((d) => (existsSync(join(root, d)) ? sourceFiles(join(root, d)) : []));
const edges = files.flatMap(importsOf);

test("the scan sees the repository's imports, type-only and dynamic ones included", () => {
  assert.ok(files.length > 100, `only ${files.length} source files found under ${SCANNED.join(", ")}`);
  const has = (from: string, pred: (e: ImportEdge) => boolean) => edges.some((e) => e.from.startsWith(from) && pred(e));
  assert.ok(
    has("src/", (e) => e.typeOnly),
    "no type-only import found",
  );
  assert.ok(
    has("src/", (e) => e.reexport),
    "no re-export found",
  );
  assert.ok(
    has("src/", (e) => !e.typeOnly && !e.reexport),
    "no value import found",
  );
});

test("the check finds cycles between folders and between a folder and its subfolder, not an index re-export", () => {
  const edge = (from: string, to: string, reexport = false): ImportEdge => ({ from, to, typeOnly: true, reexport });
  assert.deepEqual(folderCycles([edge("src/a/x.ts", "src/b/y.ts"), edge("src/b/y.ts", "src/a/z.ts")]), [["src/a", "src/b"]]);
  assert.deepEqual(folderCycles([edge("src/a/x.ts", "src/a/sub/y.ts"), edge("src/a/sub/y.ts", "src/a/z.ts")]), [["src/a", "src/a/sub"]]);
  assert.deepEqual(folderCycles([edge("src/a/index.ts", "src/a/sub/y.ts", true), edge("src/a/sub/y.ts", "src/a/z.ts")]), []);
  assert.deepEqual(folderCycles([edge("src/a/x.ts", "src/b/y.ts"), edge("src/b/y.ts", "src/c/z.ts")]), []);
});

test("no folder of src/, actors/, schemas/ imports a folder that imports it back", () => {
  const g = folderGraph(edges);
  const found = folderCycles(edges);
  const describe = (comp: string[]): string => {
    const inComp = new Set(comp);
    const lines = [`cycle between ${comp.join(", ")}:`];
    for (const a of comp) {
      for (const [b, via] of g.get(a) ?? []) {
        if (!inComp.has(b)) continue;
        const shown = via.slice(0, 3).map((e) => `${e.from} -> ${e.to}${e.typeOnly ? " (type)" : ""}`);
        lines.push(`  ${a} -> ${b}: ${shown.join("; ")}${via.length > 3 ? `; and ${via.length - 3} more` : ""}`);
      }
    }
    return lines.join("\n");
  };
  assert.equal(found.length, 0, `folder import cycles:\n${found.map(describe).join("\n")}`);
});

test("no files import each other's values in a cycle", () => {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.typeOnly) continue;
    let s = next.get(e.from);
    if (!s) next.set(e.from, (s = new Set()));
    s.add(e.to);
  }
  const found = cycles(next.keys(), (n) => next.get(n) ?? []);
  assert.equal(found.length, 0, `value import cycles between files:\n${found.map((c) => `  ${c.join(" -> ")}`).join("\n")}`);
});
