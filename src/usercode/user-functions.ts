/** The job's functions as a task sees them (`ctx.userCode`): the map the job's builder attached to its graph. */
import { ErrorCode, ValidationError } from "../core/errors.js";
import { USER_FUNCTIONS, type UserCode } from "../runtime/api.js";

/** The functions a built JobGraph carries under {@link USER_FUNCTIONS} (an empty map when it carries none). */
export function userFunctionsOf(built: unknown): ReadonlyMap<string, unknown> {
  const m = built && typeof built === "object" ? (built as Record<symbol, unknown>)[USER_FUNCTIONS] : undefined;
  if (m instanceof Map) return m as ReadonlyMap<string, unknown>;
  // A Map from another realm (a worker's module graph) is still a Map by its tag.
  if (m && typeof m === "object" && Object.prototype.toString.call(m) === "[object Map]") return m as ReadonlyMap<string, unknown>;
  return new Map();
}

/** {@link UserCode} over one job's functions. */
export class JobUserCode implements UserCode {
  constructor(
    private readonly functions: ReadonlyMap<string, unknown>,
    private readonly jobName = "the job",
  ) {}

  /** The function registered under `ref`; ValidationError UnknownInvokable when the job's main registered none. */
  fn<T = unknown>(ref: string): T {
    if (this.functions.has(ref)) return this.functions.get(ref) as T;
    const known = [...this.functions.keys()].slice(0, 20);
    throw new ValidationError(
      ErrorCode.UnknownInvokable,
      `${this.jobName} registers no user function "${ref}" (it has ${this.functions.size}${known.length ? `: ${known.join(", ")}` : ""}); the job's main must build the same graph on every run`,
      { details: { ref, known } },
    );
  }

  /** How many functions the job registered. */
  get size(): number {
    return this.functions.size;
  }
}
