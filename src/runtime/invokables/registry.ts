/** The invokable registry: name -> factory, with a lookup that fails with a clear UnknownInvokable error. */
import { ErrorCode, ValidationError } from "../../core/errors.js";
import type { InvokableFactory } from "../api.js";

/** Invokables by name. Built-ins plus whatever a job's code registers. */
export class InvokableRegistry implements Iterable<InvokableFactory> {
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
}
