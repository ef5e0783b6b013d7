/**
 * JobGraph validation: the wire form (`schemas/jobgraph.schema.json`, checked with ajv) first, then the
 * rules a schema cannot state (unique ids, edges to existing vertices, no cycles, known invokables...).
 * The result has every default filled in and its vertices in topological order.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { ErrorCode, ValidationError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { packageRoot } from "../core/package.js";
import { Limits } from "../core/config.js";
import type { FeedbackEdge, JobEdge, JobEdgeSpec, JobGraph, JobGraphSpec, JobVertex } from "./types.js";
import { graphInvokables, type CatalogInvokable, type InvokableCatalog } from "./catalog.js";
import { JobGraphDefaults, defaultMaxParallelism, distributionOf } from "./defaults.js";

/** Deepest nesting accepted inside a vertex `config`. */
const MAX_CONFIG_DEPTH = 32;
/** Most values (objects, arrays, scalars) accepted inside one vertex `config`. */
const MAX_CONFIG_NODES = 100_000;

let compiled: ValidateFunction | undefined;
let schemaObject: Record<string, unknown> | undefined;

/** The JobGraph JSON Schema (read once from `schemas/jobgraph.schema.json`). */
export function jobGraphSchema(): Record<string, unknown> {
  if (schemaObject) return schemaObject;
  // Found from the package root: this module may run from src/, from dist/ or inside a bundle.
  const path = join(packageRoot(), "schemas", "jobgraph.schema.json");
  try {
    schemaObject = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${path} not readable: ${String(err)}`);
  }
  return schemaObject;
}

function schemaValidator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: false, verbose: true, strict: true, strictTypes: false });
    compiled = ajv.compile(jobGraphSchema());
  }
  return compiled;
}

/**
 * Checks a submitted JobGraph and returns it with defaults filled in and vertices in topological order.
 * Throws only {@link ValidationError}, whatever `input` is, with one of the codes InvalidJobGraph,
 * InvalidParallelism, UnknownInvokable, DanglingEdge, CyclicJobGraph (or the code an invokable's own
 * validator chose). `registry` names the invokables vertices may use (the runtime's `builtinRegistry`, or a
 * job's registry); those the graph's bundle declares are added to it.
 */
export function validateJobGraph(input: unknown, registry: InvokableCatalog): JobGraph {
  try {
    return validateUnchecked(input, registry);
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new ValidationError(ErrorCode.InvalidJobGraph, `the JobGraph could not be read: ${msg}`, { cause: err });
  }
}

/** Co-located vertices must be placeable together: equal parallelism, one slot sharing group. */
function checkCoLocation(vertices: JobVertex[]): void {
  const first = new Map<string, JobVertex>();
  for (const v of vertices) {
    if (v.coLocationGroup === undefined) continue;
    const f = first.get(v.coLocationGroup);
    if (!f) {
      first.set(v.coLocationGroup, v);
      continue;
    }
    if (f.parallelism !== v.parallelism || f.slotSharingGroup !== v.slotSharingGroup)
      fail(
        ErrorCode.InvalidJobGraph,
        `vertices "${f.id}" and "${v.id}" are in co-location group "${v.coLocationGroup}" but differ in ${f.parallelism !== v.parallelism ? "parallelism" : "slot sharing group"}; co-located vertices need the same parallelism and slot sharing group`,
        { vertexId: v.id, coLocationGroup: v.coLocationGroup },
      );
  }
}

function fail(code: ErrorCode, message: string, details?: unknown): never {
  throw new ValidationError(code, message, details === undefined ? undefined : { details });
}

function validateUnchecked(input: unknown, registry: InvokableCatalog): JobGraph {
  const validate = schemaValidator();
  if (!validate(input)) {
    const errors = validate.errors ?? [];
    const e = errors.find((x) => x.keyword === "oneOf") ?? errors.find((x) => x.keyword !== "if") ?? errors[0];
    if (!e) fail(ErrorCode.InvalidJobGraph, "the JobGraph does not match schemas/jobgraph.schema.json");
    const code = /^\/vertices\/\d+\/(maxParallelism|parallelism)$/.test(e.instancePath) ? ErrorCode.InvalidParallelism : ErrorCode.InvalidJobGraph;
    fail(code, describeSchemaError(e), { path: jsonPath(e.instancePath), keyword: e.keyword, params: e.params });
  }
  const spec = input as JobGraphSpec;
  // Vertices may name the invokables the job's bundle declares besides the built-ins.
  registry = graphInvokables(spec.bundle, registry);

  // Vertices: unique ids, parallelism bounds, known invokables with valid settings.
  const byId = new Map<string, JobVertex>();
  const factories = new Map<string, CatalogInvokable>();
  const order: string[] = [];
  for (let i = 0; i < spec.vertices.length; i++) {
    const v = spec.vertices[i]!;
    if (byId.has(v.id)) {
      fail(ErrorCode.InvalidJobGraph, `duplicate vertex id "${v.id}" at $.vertices[${i}]: every vertex needs its own id`, { vertexId: v.id });
    }
    const maxParallelism = v.maxParallelism ?? defaultMaxParallelism(v.parallelism);
    if (v.parallelism > maxParallelism) {
      fail(
        ErrorCode.InvalidParallelism,
        `vertex "${v.id}": parallelism ${v.parallelism} exceeds its maxParallelism ${maxParallelism}; lower the parallelism or raise maxParallelism (at most ${Limits.maxParallelism})`,
        { vertexId: v.id },
      );
    }
    const factory = registry.get(v.invokable);
    if (!factory) {
      const known = [...registry.keys()].sort().join(", ");
      fail(ErrorCode.UnknownInvokable, `vertex "${v.id}": unknown invokable "${v.invokable}"; known invokables: ${known}`, {
        vertexId: v.id,
        invokable: v.invokable,
      });
    }
    const config = cloneConfig(v.config ?? {}, v.id);
    try {
      factory.validate(config, v.id);
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      fail(ErrorCode.InvalidJobGraph, `vertex "${v.id}" (${v.invokable}): invalid config: ${msg}`, { vertexId: v.id });
    }
    factories.set(v.id, factory);
    order.push(v.id);
    byId.set(v.id, {
      id: v.id,
      name: v.name ?? v.id,
      invokable: v.invokable,
      parallelism: v.parallelism,
      maxParallelism,
      slotSharingGroup: v.slotSharingGroup ?? JobGraphDefaults.slotSharingGroup,
      config,
      chaining: v.chaining ?? true,
      ...(v.coLocationGroup !== undefined ? { coLocationGroup: v.coLocationGroup } : {}),
    });
  }
  checkCoLocation([...byId.values()]);

  // Edges: endpoints exist, no duplicates, consistent partitioning.
  const edges: JobEdge[] = [];
  const seen = new Set<string>();
  const outs = new Map<string, string[]>(order.map((id) => [id, []]));
  const ins = new Map<string, string[]>(order.map((id) => [id, []]));
  const feedbackSpecs: Array<{ spec: JobEdgeSpec; index: number }> = [];
  for (let i = 0; i < spec.edges.length; i++) {
    const e = spec.edges[i]!;
    for (const end of ["source", "target"] as const) {
      if (!byId.has(e[end])) {
        fail(
          ErrorCode.DanglingEdge,
          `$.edges[${i}] (${e.source} -> ${e.target}): ${end} vertex "${e[end]}" does not exist; declare it in vertices or fix the edge`,
          {
            edge: i,
            missingVertex: e[end],
          },
        );
      }
    }
    if (e.source === e.target) {
      fail(ErrorCode.CyclicJobGraph, `$.edges[${i}] connects vertex "${e.source}" to itself: ${ACYCLIC_RULE}`, {
        vertexId: e.source,
        cycle: [e.source, e.source],
      });
    }
    const pair = `${e.source}\u0000${e.target}\u0000${e.output ?? 0}`;
    if (seen.has(pair)) {
      fail(ErrorCode.InvalidJobGraph, `$.edges[${i}]: duplicate edge ${e.source} -> ${e.target}; connect two vertices at most once per output`, { edge: i });
    }
    seen.add(pair);
    if (e.feedback === true) {
      feedbackSpecs.push({ spec: e, index: i });
      continue;
    }
    const implied = distributionOf(e.partitioner);
    if (e.distribution !== undefined && e.distribution !== implied) {
      fail(
        ErrorCode.InvalidJobGraph,
        `$.edges[${i}]: distribution ${e.distribution} contradicts partitioner "${e.partitioner}" (which implies ${implied}); leave distribution out`,
        { edge: i },
      );
    }
    // The schema checks the ref's form; what it cannot say is that a selector replaces `key` on a hash edge.
    if (e.keySelector !== undefined && (e.partitioner !== "hash" || e.key !== undefined))
      fail(ErrorCode.InvalidJobGraph, `$.edges[${i}]: keySelector needs partitioner "hash" and no key (it replaces key)`, { edge: i });
    if (e.key !== undefined && e.partitioner !== "hash") {
      fail(ErrorCode.InvalidJobGraph, `$.edges[${i}]: key is only meaningful with partitioner "hash", not "${e.partitioner}"; remove key or use hash`, {
        edge: i,
      });
    }
    const src = byId.get(e.source)!;
    const dst = byId.get(e.target)!;
    if (e.partitioner === "forward" && src.parallelism !== dst.parallelism) {
      fail(
        ErrorCode.InvalidJobGraph,
        `$.edges[${i}]: forward edge ${e.source} -> ${e.target} joins parallelism ${src.parallelism} to ${dst.parallelism}; forward needs equal parallelism: use partitioner "rebalance" (or "rescale") or equalize the parallelism`,
        { edge: i },
      );
    }
    outs.get(e.source)!.push(e.target);
    ins.get(e.target)!.push(e.source);
    const edge: JobEdge = {
      source: e.source,
      target: e.target,
      partitioner: e.partitioner,
      distribution: implied,
      resultPartitionType: e.resultPartitionType ?? JobGraphDefaults.resultPartitionType,
    };
    if (e.key !== undefined) edge.key = e.key;
    if (e.keySelector !== undefined) edge.keySelector = e.keySelector;
    if (e.output !== undefined) edge.output = e.output;
    edges.push(edge);
  }

  const topo = topologicalOrder(order, ins, outs);
  const feedbackEdges = checkFeedbackEdges(feedbackSpecs, byId, factories, outs);

  // Roles: sources read nothing, sinks write nothing, everything else reads something.
  for (const id of topo) {
    const kind = factories.get(id)!.kind;
    const inv = byId.get(id)!.invokable;
    if (kind === "source" && ins.get(id)!.length > 0) {
      fail(ErrorCode.InvalidJobGraph, `vertex "${id}" (${inv}) is a source and cannot have inputs; remove the edge(s) from ${ins.get(id)!.join(", ")}`, {
        vertexId: id,
      });
    }
    if (kind === "sink" && outs.get(id)!.length > 0) {
      fail(ErrorCode.InvalidJobGraph, `vertex "${id}" (${inv}) is a sink and cannot have outputs; remove the edge(s) to ${outs.get(id)!.join(", ")}`, {
        vertexId: id,
      });
    }
    if (kind !== "source" && ins.get(id)!.length === 0) {
      fail(ErrorCode.InvalidJobGraph, `vertex "${id}" (${inv}) is a${kind === "sink" ? " sink" : "n operator"} without inputs; add an edge into it`, {
        vertexId: id,
      });
    }
  }

  const cfg = spec.config ?? {};
  const config: JobGraph["config"] = {
    bufferTimeoutMs: cfg.bufferTimeoutMs ?? JobGraphDefaults.bufferTimeoutMs,
    bufferRecords: cfg.bufferRecords ?? JobGraphDefaults.bufferRecords,
  };
  if (cfg.args !== undefined) config.args = [...cfg.args];
  if (cfg.parallelism !== undefined) config.parallelism = cfg.parallelism;
  if (cfg.restartStrategy !== undefined) config.restartStrategy = { ...cfg.restartStrategy };
  if (cfg.failoverStrategy !== undefined) config.failoverStrategy = cfg.failoverStrategy;
  if (cfg.scheduler !== undefined) config.scheduler = cfg.scheduler;
  if (cfg.reactive !== undefined) config.reactive = cfg.reactive;
  if (cfg.adaptiveBatch !== undefined) {
    const ab = cfg.adaptiveBatch;
    if (ab.minParallelism !== undefined && ab.maxParallelism !== undefined && ab.minParallelism > ab.maxParallelism)
      fail(ErrorCode.InvalidJobGraph, `config.adaptiveBatch.minParallelism (${ab.minParallelism}) exceeds maxParallelism (${ab.maxParallelism})`, {
        path: "/config/adaptiveBatch",
      });
    config.adaptiveBatch = { ...ab };
  }
  if (cfg.resourceRequirements !== undefined) {
    for (const [v, b] of Object.entries(cfg.resourceRequirements)) {
      if (b.lower > b.upper)
        fail(ErrorCode.InvalidParallelism, `config.resourceRequirements.${v}: lower ${b.lower} exceeds upper ${b.upper}`, {
          path: `/config/resourceRequirements/${v}`,
        });
    }
    config.resourceRequirements = Object.fromEntries(Object.entries(cfg.resourceRequirements).map(([v, b]) => [v, { lower: b.lower, upper: b.upper }]));
  }
  if (cfg.checkpointing !== undefined) config.checkpointing = { ...cfg.checkpointing };
  if (cfg.savepoint !== undefined) config.savepoint = cfg.savepoint;
  const graph: JobGraph = {
    jobId: spec.jobId ?? newId(),
    name: spec.name,
    vertices: topo.map((id) => byId.get(id)!),
    edges,
    config,
  };
  if (feedbackEdges.length > 0) graph.feedbackEdges = feedbackEdges;
  if (spec.bundle !== undefined) {
    const b = spec.bundle;
    graph.bundle = { id: b.id, size: b.size, ...(b.invokables ? { invokables: b.invokables.map((d) => ({ name: d.name, kind: d.kind })) } : {}) };
  }
  return graph;
}

/** What a cycle error tells the author. */
const ACYCLIC_RULE = "a JobGraph must be acyclic, except through an edge declared feedback: true from an iteration's tail to its head (both co-located)";

/**
 * The iterations' ways back. A feedback edge runs from a vertex whose invokable is an iteration tail to
 * one whose invokable is a head; both use the in-memory channel of the co-location group they share
 * (which is how the runtime carries the edge), the partitioner is forward, and the head reaches the tail
 * through data edges (the edge closes a cycle). A vertex whose config uses a channel needs its edge, so
 * the graph declares every loop the runtime will run.
 */
function checkFeedbackEdges(
  specs: ReadonlyArray<{ spec: JobEdgeSpec; index: number }>,
  byId: ReadonlyMap<string, JobVertex>,
  factories: ReadonlyMap<string, CatalogInvokable>,
  outs: ReadonlyMap<string, string[]>,
): FeedbackEdge[] {
  const result: FeedbackEdge[] = [];
  const ended = new Set<string>();
  for (const { spec: e, index: i } of specs) {
    const where = `$.edges[${i}] (feedback ${e.source} -> ${e.target})`;
    const details = { edge: i };
    if (e.partitioner !== "forward" || e.key !== undefined || e.keySelector !== undefined || e.output !== undefined || e.resultPartitionType === "BLOCKING")
      fail(ErrorCode.InvalidJobGraph, `${where}: a feedback edge is forward and pipelined (subtask i of the tail feeds subtask i of the head)`, details);
    const tail = byId.get(e.source)!;
    const head = byId.get(e.target)!;
    const group = tail.coLocationGroup;
    if (group === undefined || head.coLocationGroup !== group)
      fail(ErrorCode.InvalidJobGraph, `${where}: the tail and the head of a feedback edge must share a co-location group`, details);
    for (const [v, role] of [
      [tail, "tail"],
      [head, "head"],
    ] as const) {
      const it = factories.get(v.id)!.iteration;
      if (it?.role !== role)
        fail(ErrorCode.InvalidJobGraph, `${where}: vertex "${v.id}" (${v.invokable}) cannot be an iteration ${role}`, { ...details, vertexId: v.id });
      if (it.channel(v.config) !== group)
        fail(
          ErrorCode.InvalidJobGraph,
          `${where}: vertex "${v.id}" (${v.invokable}) does not use the channel of co-location group "${group}"; its config must name that group`,
          { ...details, vertexId: v.id },
        );
      if (ended.has(v.id)) fail(ErrorCode.InvalidJobGraph, `${where}: vertex "${v.id}" already ends another feedback edge`, { ...details, vertexId: v.id });
      ended.add(v.id);
    }
    if (!reaches(head.id, tail.id, outs))
      fail(ErrorCode.InvalidJobGraph, `${where}: "${head.id}" does not reach "${tail.id}" through data edges, so this edge closes no iteration`, details);
    result.push({ source: tail.id, target: head.id });
  }
  for (const v of byId.values()) {
    const it = factories.get(v.id)!.iteration;
    if (it !== undefined && it.channel(v.config) !== undefined && !ended.has(v.id))
      fail(
        ErrorCode.InvalidJobGraph,
        `vertex "${v.id}" (${v.invokable}) is an iteration ${it.role} but no feedback edge ${it.role === "head" ? "ends" : "starts"} at it; declare the edge with feedback: true`,
        { vertexId: v.id },
      );
  }
  return result;
}

/** Whether `to` can be reached from `from` along `outs`. */
function reaches(from: string, to: string, outs: ReadonlyMap<string, string[]>): boolean {
  const seen = new Set([from]);
  const stack = [from];
  while (stack.length > 0) {
    const cur = stack.pop()!;
    if (cur === to) return true;
    for (const next of outs.get(cur)!) {
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(next);
    }
  }
  return false;
}

/** Kahn's algorithm, stable in declaration order; on a cycle, names the vertices on one. */
function topologicalOrder(order: string[], ins: Map<string, string[]>, outs: Map<string, string[]>): string[] {
  const indeg = new Map<string, number>(order.map((id) => [id, ins.get(id)!.length]));
  const queue = order.filter((id) => indeg.get(id) === 0);
  const result: string[] = [];
  for (let h = 0; h < queue.length; h++) {
    const id = queue[h]!;
    result.push(id);
    for (const t of outs.get(id)!) {
      const d = indeg.get(t)! - 1;
      indeg.set(t, d);
      if (d === 0) queue.push(t);
    }
  }
  if (result.length === order.length) return result;
  // Every vertex left has a predecessor that is also left: walking backwards must revisit one.
  const left = new Set(order.filter((id) => indeg.get(id)! > 0));
  let cur = order.find((id) => left.has(id))!;
  const pos = new Map<string, number>();
  const path: string[] = [];
  while (!pos.has(cur)) {
    pos.set(cur, path.length);
    path.push(cur);
    cur = ins.get(cur)!.find((p) => left.has(p))!;
  }
  const cycle = path.slice(pos.get(cur)!).reverse();
  cycle.push(cycle[0]!);
  fail(ErrorCode.CyclicJobGraph, `the JobGraph has a cycle through vertex "${cur}": ${cycle.join(" -> ")}; ${ACYCLIC_RULE}`, {
    vertexId: cur,
    cycle,
  });
}

/** A fresh copy of a vertex config: plain objects and arrays copied, `__proto__` keys and functions refused, depth and size capped. */
function cloneConfig(config: Record<string, unknown>, vertexId: string): Record<string, unknown> {
  let nodes = 0;
  const where = (path: string) => `vertex "${vertexId}": config${path}`;
  const copy = (value: unknown, path: string, depth: number): unknown => {
    if (++nodes > MAX_CONFIG_NODES)
      fail(ErrorCode.InvalidJobGraph, `${where("")} holds more than ${MAX_CONFIG_NODES} values; keep settings small`, { vertexId });
    if (value === null || typeof value !== "object") {
      if (typeof value === "function" || typeof value === "symbol") {
        fail(ErrorCode.InvalidJobGraph, `${where(path)} is a ${typeof value}; settings must be plain data`, { vertexId });
      }
      return value;
    }
    if (depth > MAX_CONFIG_DEPTH) fail(ErrorCode.InvalidJobGraph, `${where(path)} is nested deeper than ${MAX_CONFIG_DEPTH} levels`, { vertexId });
    if (Array.isArray(value)) {
      const out: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = copy(value[i], `${path}[${i}]`, depth + 1);
      return out;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value; // binary data and the like: kept as is
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (key === "__proto__") fail(ErrorCode.InvalidJobGraph, `${where(path)} has a "__proto__" key; rename it`, { vertexId });
      out[key] = copy((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    }
    return out;
  };
  return copy(config, "", 0) as Record<string, unknown>;
}

/** `/vertices/0/config/from` as `$.vertices[0].config.from`. */
export function jsonPath(pointer: string): string {
  if (!pointer) return "$";
  let out = "$";
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function show(v: unknown): string {
  let s: string;
  try {
    s = typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? "an array" : v === null ? "null" : typeof v === "object" ? "an object" : String(v);
  } catch {
    s = typeof v;
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** One ajv error as a sentence naming the JSON path and what to fix. */
function describeSchemaError(e: ErrorObject): string {
  const path = jsonPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const what = "(see schemas/jobgraph.schema.json)";
  switch (e.keyword) {
    case "required": {
      const missing = String(p.missingProperty);
      const inv = (e.data as { invokable?: unknown } | undefined)?.invokable;
      if (missing === "config" && typeof inv === "string") return `${path}: invokable "${inv}" needs a config object ${what}`;
      return `${path}: missing required property "${missing}"`;
    }
    case "additionalProperties": {
      const allowed = Object.keys(((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object);
      return `${path}: unknown property ${JSON.stringify(String(p.additionalProperty))}; ${allowed.length ? `allowed: ${allowed.join(", ")}` : "no settings are accepted here"}`;
    }
    case "type":
      return `${path}: must be ${String(p.type)}, got ${typeName(e.data)}`;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `${path}: must be ${String(p.comparison)} ${String(p.limit)}, got ${show(e.data)}`;
    case "pattern":
      return `${path}: must match ${String(p.pattern)}, got ${show(e.data)}`;
    case "minLength":
    case "maxLength":
      return `${path}: must have ${e.keyword === "minLength" ? "at least" : "at most"} ${String(p.limit)} characters`;
    case "minItems":
    case "maxItems":
      return `${path}: must have ${e.keyword === "minItems" ? "at least" : "at most"} ${String(p.limit)} item(s), got ${Array.isArray(e.data) ? e.data.length : "?"}`;
    case "maxProperties":
      return `${path}: must have at most ${String(p.limit)} properties`;
    case "enum":
      return `${path}: must be one of ${((p.allowedValues as unknown[]) ?? []).map((x) => JSON.stringify(x)).join(", ")}; got ${show(e.data)}`;
    case "const":
      return `${path}: must be ${JSON.stringify(p.allowedValue)}`;
    case "oneOf":
      return `${path}: must be ${((e.schema as Array<{ type?: string }>) ?? []).map((s) => (s.type === "integer" ? "a non-negative integer" : s.type === "string" ? "a non-empty string" : s.type)).join(" or ")}, got ${show(e.data)}`;
    default:
      return `${path}: ${e.message ?? "does not match the schema"} ${what}`;
  }
}
