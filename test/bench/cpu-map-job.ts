/**
 * The embarrassingly parallel job of the scaling bench (scaling-bench.ts):
 * `sequence(0, N-1) -> map (CPU-heavy, pure) -> discard`, forward edges only, so each subtask runs the
 * whole chain on its share of the sequence and no record crosses a thread. Args: `--records N --work K`
 * (K rounds of integer mixing per record).
 */
import { JobBuilder, jobArg, type JobMain } from "eddy";

const cpuMap: JobMain = (args, ctx) => {
  const records = Number(jobArg(args, "--records") ?? 1_000_000);
  const work = Number(jobArg(args, "--work") ?? 200);
  const env = new JobBuilder("CpuMap", { parallelism: ctx.parallelism ?? 1 });
  env
    .sequence(0, records - 1)
    .map((x: number) => {
      let h = x | 0;
      for (let i = 0; i < work; i++) h = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + i) | 0;
      return h;
    })
    .discard();
  return env.build();
};

export default cpuMap;
