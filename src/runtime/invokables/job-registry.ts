/**
 * A job's own invokable registry: a copy of a base registry (the built-ins) plus the invokables the
 * job's bundle exports (the actor SDK: custom invokables, sources and sinks), with an `eddy.chain`
 * that chains them like built-ins. Each job gets its own, so two jobs may ship invokables of one
 * name in different versions.
 */
import { ErrorCode, ValidationError } from "../../core/errors.js";
import type { InvokableFactory } from "../api.js";
import { CHAIN_INVOKABLE, createChainFactory } from "./chain.js";
import { InvokableRegistry } from "./registry.js";

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
      throw new ValidationError(ErrorCode.InvalidJobGraph, `a custom invokable needs a name matching [A-Za-z0-9_.:-]{1,128}, got ${JSON.stringify((f as { name?: unknown })?.name)}`);
    if (f.kind !== "source" && f.kind !== "operator" && f.kind !== "sink")
      throw new ValidationError(ErrorCode.InvalidJobGraph, `custom invokable "${f.name}": kind must be "source", "operator" or "sink", got ${JSON.stringify(f.kind)}`);
    if (registry.has(f.name) || f.name === CHAIN_INVOKABLE)
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        registry.custom.has(f.name) ? `custom invokable "${f.name}" is exported twice` : `custom invokable "${f.name}" has the name of a built-in; choose another (e.g. "myjob.${f.name}")`,
        { details: { invokable: f.name } },
      );
    registry.register(f);
    registry.custom.add(f.name);
  }
  registry.register(createChainFactory(() => registry));
  return registry.freeze();
}
