/**
 * `eddy init DIR`: a project of one's own that uses Eddy as a package (Flink's quickstart archetype):
 * package.json, a strict tsconfig.json, a job (src/job.ts), its test on an in-process mini cluster
 * (test/job.test.ts, `npm test`) and a README saying how to run it on a cluster.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { packageVersion } from "../cluster/paths.js";
import type { ParsedArgs } from "./args.js";
import { Exit, type Io } from "./io.js";
import { projectFiles } from "./init-templates.js";

/** Runs `eddy init DIR`. */
export function initCommand(args: ParsedArgs, io: Io): Promise<number> {
  const dir = resolve(args.positionals[0]!);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    io.err(`eddy init: ${dir} is not empty; give a new or empty directory`);
    return Promise.resolve(Exit.Refused);
  }
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[._-]+/, "") || "eddy-job";
  for (const [path, text] of Object.entries(projectFiles(name, packageVersion()))) {
    const file = join(dir, path);
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, text);
    io.out(`wrote ${file}`);
  }
  io.out("");
  io.out(`Next: cd ${dir} && npm install && npm test`);
  io.out("Then, with a cluster running (npx eddy cluster): npx eddy run src/job.ts -- --input README.md --output out");
  return Promise.resolve(Exit.Ok);
}
