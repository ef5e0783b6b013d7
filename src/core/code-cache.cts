/**
 * Loads a CommonJS bundle with a V8 code cache beside it, so that a process does not parse and
 * compile the same code again at every start (Node 20 has no compile cache of its own, and ES
 * modules cannot be given one).
 *
 * The cache's name carries the bundle's size and modification time: V8 checks a cache against the
 * length of the source only, so a rebuilt bundle of the same length would otherwise run the old
 * code. V8 refuses a cache made by another V8 version or with other flags; the bundle is then
 * compiled as if there were no cache, and the cache written again.
 */
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Script, constants } from "node:vm";

interface CommonJsModule {
  exports: unknown;
}

/** The code cache file of the bundle `file` as it is now. */
export function codeCacheFile(file: string): string {
  const { size, mtimeNs } = statSync(file, { bigint: true });
  return `${file}.${size}-${mtimeNs}.cache`;
}

/**
 * Runs the CommonJS file `file` (UTF-8) with its code cache, and
 * returns its exports. When the cache is missing or refused and `writeCache` holds, a new one is
 * written as the process exits, by then holding every function the run compiled.
 */
export function requireWithCodeCache(file: string, writeCache = true): unknown {
  const cacheFile = codeCacheFile(file);
  const source = readFileSync(file, "utf8");
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined; // none yet: this run makes it
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (writeCache && (cachedData === undefined || script.cachedDataRejected === true)) {
    process.once("exit", () => saveCache(script, cacheFile));
  }
  const module: CommonJsModule = { exports: {} };
  const init = script.runInThisContext() as (...args: unknown[]) => void;
  init.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/**
 * Writes the cache whole or not at all (concurrent first runs each rename a complete file). Never
 * throws: it runs as the process exits, where a throw would change the command's exit code.
 */
function saveCache(script: Script, cacheFile: string): void {
  const temporary = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(temporary, script.createCachedData());
    renameSync(temporary, cacheFile);
  } catch {
    // A read-only install keeps no cache: every start compiles, as without one, and answers the same.
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Nothing was written there, or nothing can be removed: the next start tries again.
    }
  }
}
