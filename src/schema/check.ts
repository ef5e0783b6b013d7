/**
 * A tiny typed checker for the internal RPC messages: each message shape is written once as a
 * checker, its TypeScript type is inferred from it, and untrusted bodies are parsed through it.
 * (The public JobGraph uses JSON Schema in schemas/; these are the actors' own protocols.)
 */
import { ErrorCode, errorCodeOr, InternalError, ValidationError } from "../core/errors.js";

/** Parses an unknown value at `path` or throws. */
export type Check<T> = (v: unknown, path: string) => T;
/** The type a checker produces. */
export type Infer<C> = C extends Check<infer T> ? T : never;

function fail(path: string, what: string): never {
  throw new ValidationError(ErrorCode.MalformedRequest, `${path || "body"}: ${what}`);
}

export const str =
  (opts: { max?: number; pattern?: RegExp } = {}): Check<string> =>
  (v, p) => {
    if (typeof v !== "string") fail(p, "must be a string");
    if (v.length > (opts.max ?? 4096)) fail(p, `must be at most ${opts.max ?? 4096} characters`);
    if (opts.pattern && !opts.pattern.test(v)) fail(p, `must match ${opts.pattern}`);
    return v;
  };
/**
 * An error code from a peer: a string of at most 100 characters. One this version does not know (a
 * newer peer's) is read as InternalError rather than refused: the failure it reports still counts.
 */
export const errorCode: Check<ErrorCode> = (v, p) => errorCodeOr(str({ max: 100 })(v, p));
/** A 32 hex digit id. */
export const id: Check<string> = str({ pattern: /^[0-9a-f]{32}$/ });
export const int =
  (opts: { min?: number; max?: number } = {}): Check<number> =>
  (v, p) => {
    if (typeof v !== "number" || !Number.isInteger(v)) fail(p, "must be an integer");
    if (opts.min !== undefined && v < opts.min) fail(p, `must be at least ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) fail(p, `must be at most ${opts.max}`);
    return v;
  };
export const num: Check<number> = (v, p) => (typeof v === "number" && Number.isFinite(v) ? v : fail(p, "must be a number"));
export const bool: Check<boolean> = (v, p) => (typeof v === "boolean" ? v : fail(p, "must be a boolean"));
export const any: Check<unknown> = (v) => v;
export const oneOf =
  <const T extends readonly string[]>(values: T): Check<T[number]> =>
  (v, p) =>
    (values as readonly unknown[]).includes(v) ? (v as T[number]) : fail(p, `must be one of ${values.join(", ")}`);
export const optional = <T>(c: Check<T>): Check<T | undefined> & { optional: true } =>
  Object.assign((v: unknown, p: string) => (v === undefined || v === null ? undefined : c(v, p)), { optional: true as const });
export const array =
  <T>(c: Check<T>, max = 100_000): Check<T[]> =>
  (v, p) => {
    if (!Array.isArray(v)) fail(p, "must be an array");
    if (v.length > max) fail(p, `must have at most ${max} items`);
    const out: T[] = new Array(v.length);
    try {
      for (let i = 0; i < v.length; i++) out[i] = c(v[i], p);
    } catch {
      preciseFailure(() => v.forEach((x, i) => c(x, `${p}[${i}]`)));
    }
    return out;
  };

/**
 * Checks on the success path pass their own path down unchanged (a store parses thousands of entries
 * a second, and building a path per field and item was most of the cost); a failure is checked again
 * with the precise paths, which throws the error naming the exact field.
 */
function preciseFailure(again: () => void): never {
  again();
  throw new InternalError("a check failed once and passed when repeated");
}
/** A record of numbers or any values keyed by strings. */
export const record =
  <T>(c: Check<T>, max = 10_000): Check<Record<string, T>> =>
  (v, p) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(p, "must be an object");
    const keys = Object.keys(v);
    if (keys.length > max) fail(p, `must have at most ${max} keys`);
    const o = v as Record<string, unknown>;
    const out: Record<string, T> = Object.create(null);
    try {
      for (const k of keys) out[k] = c(o[k], p);
    } catch {
      preciseFailure(() => {
        for (const k of keys) c(o[k], `${p}.${k}`);
      });
    }
    return out;
  };

type Shape = Record<string, Check<unknown>>;
type OptKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type ReqKeys<S extends Shape> = Exclude<keyof S, OptKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in ReqKeys<S>]: Infer<S[K]> } & { [K in OptKeys<S>]?: Infer<S[K]> };

/** An object with exactly these fields (unknown fields are dropped). */
export const object = <S extends Shape>(shape: S): Check<ObjectOf<S>> => {
  const fields = Object.entries(shape);
  return (v, p) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(p, "must be an object");
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    try {
      for (const [k, c] of fields) {
        const x = c(o[k], p);
        if (x !== undefined) out[k] = x;
      }
    } catch {
      preciseFailure(() => {
        for (const [k, c] of fields) c(o[k], p ? `${p}.${k}` : k);
      });
    }
    return out as ObjectOf<S>;
  };
};

/** Turns a checker into a method `parse` function. */
export const parser =
  <T>(c: Check<T>) =>
  (v: unknown): T =>
    c(v, "");
