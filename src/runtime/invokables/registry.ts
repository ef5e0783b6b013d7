/**
 * Invokable registries: name -> factory, with a lookup that fails with a clear UnknownInvokable error.
 * A registry is the JobGraph's {@link InvokableCatalog}: validation and chaining read it.
 *
 * A job's own registry is a copy of a base registry (the built-ins) plus the invokables the job's
 * bundle exports (the actor SDK: custom invokables, sources and sinks), with an `eddy.chain` that
 * chains them like built-ins. Each job gets its own, so two jobs may ship invokables of one name in
 * different versions.
 */
import { ErrorCode, ValidationError } from "../../core/errors.js";
import type { BundleInvokableSpec, InvokableCatalog } from "../../jobgraph/index.js";
import type { InvokableFactory } from "../api.js";
import { CHAIN_INVOKABLE, createChainFactory } from "./chain.js";

/** Invokables by name. Built-ins plus whatever a job's code registers. */
export class InvokableRegistry implements Iterable<InvokableFactory>, InvokableCatalog {
  private readonly byName = new Map<string, InvokableFactory>();
  private frozen = false;

  constructor(factories: Iterable<InvokableFactory> = []) {
    for (const f of factories) this.register(f);
  }

  /** Adds a factory; a name can be registered once. Throws on a frozen registry. */
  register(factory: InvokableFactory): this {
    if (this.frozen) throw new Error(`invokable registry is read-only; copy it (new InvokableRegistry(registry)) to add "${factory.name}"`);
    if (this.byName.has(factory.name)) throw new Error(`invokable "${factory.name}" is already registered`);
    this.byName.set(factory.name, factory);
    return this;
  }

  /** Makes the registry read-only. */
  freeze(): this {
    this.frozen = true;
    return this;
  }

  /** The factory of `name`, or undefined. */
  get(name: string): InvokableFactory | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The factory of `name`; throws ValidationError UnknownInvokable listing the known names. */
  lookup(name: string): InvokableFactory {
    const f = this.byName.get(name);
    if (!f) {
      throw new ValidationError(ErrorCode.UnknownInvokable, `unknown invokable "${name}"; known invokables: ${this.names().join(", ")}`, {
        details: { invokable: name, known: this.names() },
      });
    }
    return f;
  }

  /** Registered names, in registration order. */
  keys(): IterableIterator<string> {
    return this.byName.keys();
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  get size(): number {
    return this.byName.size;
  }

  [Symbol.iterator](): Iterator<InvokableFactory> {
    return this.byName.values();
  }

  /** A job registry over this one with stand-ins for the invokables a job's bundle declares. */
  withDeclared(declared: readonly BundleInvokableSpec[]): JobInvokableRegistry {
    return createJobRegistry(this, declared.map(declaredInvokable));
  }
}

/**
 * A stand-in for an invokable a job's bundle exports: the JobManager never loads a job's code, so it
 * knows only the name and kind, enough to check the graph's shape and to chain it. Its settings are
 * checked on the TaskExecutor, by the real factory, before the task runs.
 */
export function declaredInvokable(decl: BundleInvokableSpec): InvokableFactory {
  return {
    name: decl.name,
    kind: decl.kind,
    description: `${decl.kind} shipped with the job's bundle`,
    validate() {
      // Checked on the TaskExecutor, where the bundle's own factory is.
    },
    create() {
      throw new ValidationError(
        ErrorCode.UnknownInvokable,
        `"${decl.name}" is declared by the job's bundle; only a TaskExecutor that loaded the bundle can run it`,
      );
    },
  };
}

/** A per-job registry; `eddy.chain` resolves but is not listed, as in the built-ins' registry. */
export class JobInvokableRegistry extends InvokableRegistry {
  /** Names of the invokables the job added (not in the base). */
  readonly custom = new Set<string>();

  override names(): string[] {
    return super.names().filter((n) => n !== CHAIN_INVOKABLE);
  }

  override *keys(): IterableIterator<string> {
    for (const n of super.keys()) if (n !== CHAIN_INVOKABLE) yield n;
  }
}

/**
 * `base` (without its chain) plus `extra`, and a chain over both; frozen. Throws ValidationError
 * InvalidJobGraph when an extra invokable is malformed, reuses a base name or appears twice.
 */
export function createJobRegistry(base: Iterable<InvokableFactory>, extra: readonly InvokableFactory[]): JobInvokableRegistry {
  const registry = new JobInvokableRegistry();
  for (const f of base) if (f.name !== CHAIN_INVOKABLE) registry.register(f);
  for (const f of extra) {
    if (!f || typeof f.name !== "string" || !/^[A-Za-z0-9_.:-]{1,128}$/.test(f.name))
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        `a custom invokable needs a name matching [A-Za-z0-9_.:-]{1,128}, got ${JSON.stringify((f as { name?: unknown })?.name)}`,
      );
    if (f.kind !== "source" && f.kind !== "operator" && f.kind !== "sink")
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        `custom invokable "${f.name}": kind must be "source", "operator" or "sink", got ${JSON.stringify(f.kind)}`,
      );
    if (registry.has(f.name) || f.name === CHAIN_INVOKABLE)
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        registry.custom.has(f.name)
          ? `custom invokable "${f.name}" is exported twice`
          : `custom invokable "${f.name}" has the name of a built-in; choose another (e.g. "myjob.${f.name}")`,
        { details: { invokable: f.name } },
      );
    registry.register(f);
    registry.custom.add(f.name);
  }
  registry.register(createChainFactory(() => registry));
  return registry.freeze();
}
