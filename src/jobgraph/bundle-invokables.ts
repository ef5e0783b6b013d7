/**
 * The invokables a JobGraph may name: the built-ins plus those its bundle declares
 * (`bundle.invokables`). The JobManager never loads a job's code, so a declared invokable stands
 * here as a placeholder with its name and kind: enough to check the graph's shape and to chain it;
 * its settings are checked on the TaskExecutor, by the real factory, before the task runs.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { InvokableFactory } from "../runtime/api.js";
import { builtinRegistry, createJobRegistry } from "../runtime/invokables/index.js";
import type { BundleInvokableSpec, JobBundleSpec } from "./types.js";

/** What validation and chaining need of a registry. */
export interface GraphInvokableLookup {
  get(name: string): InvokableFactory | undefined;
  keys(): Iterable<string>;
}

/** A stand-in for an invokable the job's bundle exports. */
export function declaredInvokable(decl: BundleInvokableSpec): InvokableFactory {
  return {
    name: decl.name,
    kind: decl.kind,
    description: `${decl.kind} shipped with the job's bundle`,
    validate() {
      // Checked on the TaskExecutor, where the bundle's own factory is.
    },
    create() {
      throw new ValidationError(ErrorCode.UnknownInvokable, `"${decl.name}" is declared by the job's bundle; only a TaskExecutor that loaded the bundle can run it`);
    },
  };
}

/** `base` plus the invokables `bundle` declares (just `base` when it declares none). */
export function graphInvokables(bundle: JobBundleSpec | undefined, base: GraphInvokableLookup = builtinRegistry): GraphInvokableLookup {
  if (!bundle?.invokables?.length) return base;
  const factories: InvokableFactory[] = [];
  for (const k of base.keys()) {
    const f = base.get(k);
    if (f) factories.push(f);
  }
  return createJobRegistry(factories, bundle.invokables.map(declaredInvokable));
}
