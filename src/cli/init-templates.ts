/** The files `eddy init` writes, by path. */
export function projectFiles(name: string, eddyVersion: string): Record<string, string> {
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  return {
    "package.json": json({
      name,
      version: "0.1.0",
      private: true,
      type: "module",
      scripts: {
        build: "tsc -p .",
        test: "tsc -p . && node --test dist/test/",
        job: "eddy run src/job.ts -- --input README.md --output out",
      },
      dependencies: { eddy: `^${eddyVersion}` },
      devDependencies: { typescript: "^5.9.3", "@types/node": "^20.19.0" },
    }),
    "tsconfig.json": json({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2023"],
        types: ["node"],
        strict: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        outDir: "dist",
        rootDir: ".",
      },
      include: ["src", "test"],
    }),
    ".gitignore": "node_modules/\ndist/\nout/\n",
    "src/job.ts": `/**
 * A word count: lines of --input, split into words, counted per word, written to --output.
 * Run it with \`npx eddy run src/job.ts -- --input FILE --output DIR\` against a cluster.
 */
import { resolve } from "node:path";
import { requireJobArg, StreamExecutionEnvironment, type JobMain } from "eddy";

const main: JobMain = (args, ctx) => {
  // Absolute paths: the TaskExecutors may run in another working directory.
  const input = resolve(requireJobArg(args, "--input"));
  const output = resolve(requireJobArg(args, "--output"));
  const env = new StreamExecutionEnvironment("WordCount", { parallelism: ctx.parallelism ?? 1 });
  env.readTextFile(input).tokenize().keyBy(0).sum(1).writeAsText(output);
  return env.build();
};
export default main;
`,
    "test/job.test.ts": `/** The job on a mini cluster in this process: its own nats-server, a JobManager, a TaskExecutor. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MiniCluster } from "eddy/testing";

const job = fileURLToPath(new URL("../../src/job.ts", import.meta.url));

test("the word count counts every word of its input", async () => {
  const dir = mkdtempSync(join(tmpdir(), "job-test-"));
  writeFileSync(join(dir, "in.txt"), "to be or not to be\\n");
  const cluster = await MiniCluster.start();
  try {
    const result = await cluster.runJob(job, { args: ["--input", join(dir, "in.txt"), "--output", join(dir, "out")], parallelism: 2 });
    assert.equal(result.state, "FINISHED");
    const lines = readdirSync(join(dir, "out"))
      .filter((f) => !f.startsWith("."))
      .flatMap((f) => readFileSync(join(dir, "out", f), "utf8").split("\\n").filter(Boolean));
    assert.deepEqual(lines.sort(), ["be 2", "not 1", "or 1", "to 2"]);
  } finally {
    await cluster.stop();
  }
});
`,
    "README.md": `# ${name}

An [Eddy](https://www.npmjs.com/package/eddy) job: Flink's model (dataflow jobs, checkpoints, exactly
once) on NATS.

- \`npm install\`, then \`npm test\`: builds, and runs \`test/job.test.ts\` on a mini cluster in the test's
  process (it needs \`nats-server\` installed: Debian \`apt-get install nats-server\`, or set
  \`EDDY_NATS_SERVER\`).
- On a cluster: \`npx eddy cluster --data-dir ~/.eddy\` in one shell; in another,
  \`EDDY_CONTEXT=~/.eddy/contexts/client.json npx eddy run src/job.ts -- --input README.md --output out\`.
- \`npx eddy plan src/job.ts -- --input README.md --output out\` prints the JobGraph without a cluster.
`,
  };
}
