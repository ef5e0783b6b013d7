/**
 * What the JobGraph knows of the invokables a graph names, without loading one: a name's kind, a check
 * of its settings, and the names a JobGraph author may write. Validation and chaining take a catalog
 * as an argument; the runtime's invokable registries implement it (src/runtime/invokables/registry.ts),
 * so this folder never loads an operator.
 */
import type { BundleInvokableSpec, InvokableKind, JobBundleSpec } from "./types.js";

/** What validation reads of one invokable. */
export interface CatalogInvokable {
  readonly name: string;
  /** `source`: no inputs; `operator`: one or more inputs and outputs; `sink`: inputs, no outputs. */
  readonly kind: InvokableKind;
  /** Checks a vertex config; throws a ValidationError (code InvalidJobGraph) saying what to fix. */
  validate(config: Record<string, unknown>, vertexId: string): void;
  /**
   * For an invokable that can end an iteration: its role, and the in-memory channel (a co-location
   * group) a vertex config makes it use, or undefined when that config uses none. A vertex that uses a
   * channel needs the declared feedback edge of it (see JobEdgeSpec.feedback).
   */
  readonly iteration?: IterationEnd;
}

/** What an invokable that can end an iteration tells validation (see {@link CatalogInvokable.iteration}). */
export interface IterationEnd {
  /** `head`: reads the feedback edge; `tail`: writes it. */
  readonly role: "head" | "tail";
  /** The co-location group whose in-memory channel a vertex config makes it use; undefined: none. */
  channel(config: Record<string, unknown>): string | undefined;
}

/** What chaining needs of a catalog: the chain invokable, and whether a name exists. */
export interface ChainingLookup {
  get(name: string): CatalogInvokable | undefined;
}

/** What validation needs of a catalog. */
export interface InvokableCatalog extends ChainingLookup {
  /** The names a JobGraph author may write (listed in UnknownInvokable errors). */
  keys(): Iterable<string>;
  /**
   * This catalog plus stand-ins for the invokables a job's bundle declares (the JobManager never loads
   * a job's code). Throws ValidationError InvalidJobGraph when a declaration is malformed, repeats a
   * name or takes a name this catalog has.
   */
  withDeclared(declared: readonly BundleInvokableSpec[]): InvokableCatalog;
}

/** The name of the chain invokable, which the JobMaster writes into graphs (operators fused into one task). */
export const CHAIN_INVOKABLE = "eddy.chain";

/** One operator of a chain vertex (`config.members`): what its own vertex was. */
export interface ChainMember {
  id: string;
  name: string;
  invokable: string;
  config: Record<string, unknown>;
}

/** The chain invokable's catalog entry: it also says which invokables it can run as members. */
export interface ChainCatalogInvokable extends CatalogInvokable {
  memberFactory(invokable: string): unknown;
}

/** Type guard: `f` is a chain invokable that says which members it can run. */
export function isChainInvokable(f: CatalogInvokable | undefined): f is ChainCatalogInvokable {
  return f !== undefined && f.name === CHAIN_INVOKABLE && typeof (f as Partial<ChainCatalogInvokable>).memberFactory === "function";
}

/** The invokables a graph with `bundle` may name: `catalog` plus what the bundle declares. */
export function graphInvokables(bundle: JobBundleSpec | undefined, catalog: InvokableCatalog): InvokableCatalog {
  return bundle?.invokables?.length ? catalog.withDeclared(bundle.invokables) : catalog;
}
