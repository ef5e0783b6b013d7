/**
 * The job the Nexmark bench runs on a mini cluster: examples/nexmark.ts's events and query, into a
 * discarding sink (as Flink's Nexmark writes into a blackhole) instead of files.
 * `-- --query Q --events N`.
 */
import { requireJobArg, StreamExecutionEnvironment, type JobMain } from "eddy";
import { nexmarkEvents } from "../../examples/nexmark.js";
import { QUERIES, runQuery, type Query } from "../../examples/nexmark/queries.js";

const USAGE = `nexmark-discard-job.ts -- --query Q --events N, Q one of ${QUERIES.join(" ")}`;

const main: JobMain = (args, ctx) => {
  const query = requireJobArg(args, "--query", USAGE);
  if (!(QUERIES as readonly string[]).includes(query)) throw new Error(`unknown query "${query}"\nusage: ${USAGE}`);
  const env = new StreamExecutionEnvironment(`Nexmark ${query} (discard)`, { parallelism: ctx.parallelism ?? 1 });
  runQuery(query as Query, nexmarkEvents(env, args)).discard();
  return env.build();
};

export default main;
