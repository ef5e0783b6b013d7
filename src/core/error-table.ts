/**
 * The user-facing table of error codes, docs/error-codes.md, generated from
 * {@link ERROR_CODE_DESCRIPTIONS} so that the docs cannot drift from the codes.
 */
import { ERROR_CODE_DESCRIPTIONS, type ErrorCode } from "./error-codes.js";

/** The markdown text of docs/error-codes.md: every code with its description, in definition order. */
export function errorCodesMarkdown(): string {
  const rows = (Object.entries(ERROR_CODE_DESCRIPTIONS) as Array<[ErrorCode, string]>).map(([code, text]) => `| \`${code}\` | ${cell(text)} |`);
  return [
    "# Error codes",
    "",
    "Every error Eddy answers with carries one of these codes (`error.code` in an API reply, the word",
    "after `error` in the CLI's output, `failure.code` in a job's result). Codes are stable: match on",
    "them, not on messages. The message says what to fix in the case at hand.",
    "",
    "A code that a newer peer sends and this version does not know is read as `InternalError`.",
    "",
    "This file is generated from `src/core/error-codes.ts` by `npm run docs:errors`; do not edit it.",
    "",
    "| Code | Meaning |",
    "| --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
