/** A predicate for assert.throws/rejects: an EddyError with `code` whose message matches `message`. */
import { EddyError, type ErrorCode } from "../../src/core/errors.js";

export function withCode(code: ErrorCode, message: RegExp = /./): (e: unknown) => boolean {
  return (e) => e instanceof EddyError && e.code === code && message.test(e.message);
}
