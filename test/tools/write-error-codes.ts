// Writes docs/error-codes.md from the error codes (`npm run docs:errors`); with --check, exits 1
// when the committed file differs instead of writing it.
import { readFileSync, writeFileSync } from "node:fs";
import { errorCodesMarkdown } from "../../src/core/index.js";

/** docs/error-codes.md of the repository, from dist/test/tools/ where this runs compiled. */
const ERROR_CODES_DOC = new URL("../../../docs/error-codes.md", import.meta.url);

function main(): number {
  const text = errorCodesMarkdown();
  if (process.argv.includes("--check")) {
    const ok = readFileSync(ERROR_CODES_DOC, "utf8") === text;
    if (!ok) console.error("docs/error-codes.md is out of date: run npm run docs:errors");
    return ok ? 0 : 1;
  }
  writeFileSync(ERROR_CODES_DOC, text);
  console.log(`wrote ${ERROR_CODES_DOC.pathname}`);
  return 0;
}

process.exitCode = main();
