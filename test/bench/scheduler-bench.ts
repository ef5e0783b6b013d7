/**
 * Flink's scheduler benchmark shape (flink-benchmarks' SchedulerBenchmarkBase): two vertices
 * connected ALL_TO_ALL at parallelism P, deployed to simulated TaskExecutors that acknowledge
 * every call (Flink's SimpleAckingTaskManagerGateway). Prints one JSON line:
 *  - initMs: JobGraph → ExecutionGraph (+ pipelined regions, as Flink's job initialization);
 *  - deployMs: start of scheduling → every task deployed (slots offered, assigned, TDDs built, sent);
 *  - failoverMs: tasks to restart for one failed task (region failover);
 *  - heapMb: heap used with the graph deployed, after a full GC.
 * Run as `node --expose-gc dist/test/bench/scheduler-bench.js P [PIPELINED|BLOCKING]`.
 */
import { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import type { AssignedSlot } from "../../src/executiongraph/execution.js";
import { DefaultScheduler } from "../../src/scheduler/default-scheduler.js";
import { computePipelinedRegions } from "../../src/scheduler/failover/pipelined-region.js";
import { RestartPipelinedRegionFailoverStrategy } from "../../src/scheduler/failover/restart-pipelined-region.js";
import { silentLogger } from "../../src/core/logger.js";
import { newId } from "../../src/core/ids.js";
import type { JobGraph } from "../../src/jobgraph/types.js";

const P = Number(process.argv[2] ?? 4000);
const type = (process.argv[3] ?? "PIPELINED") as "PIPELINED" | "BLOCKING";
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function jobGraph(): JobGraph {
  return {
    jobId: newId(),
    name: `scheduler-benchmark-${P}`,
    vertices: [
      { id: "source", name: "source", invokable: "op.identity", parallelism: P, maxParallelism: 32768, slotSharingGroup: "default", config: {} },
      { id: "sink", name: "sink", invokable: "op.identity", parallelism: P, maxParallelism: 32768, slotSharingGroup: "default", config: {} },
    ],
    edges: [{ source: "source", target: "sink", partitioner: "rebalance", distribution: "ALL_TO_ALL", resultPartitionType: type }],
    config: { bufferTimeoutMs: 100, bufferRecords: 1024 },
  };
}

async function main(): Promise<void> {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const jg = jobGraph();
  let t = performance.now();
  const graph = new ExecutionGraph(jg);
  const topology = computePipelinedRegions(graph);
  const initMs = performance.now() - t;

  let deployed = 0;
  let allDeployed!: () => void;
  const done = new Promise<void>((r) => (allDeployed = r));
  const timers = new Set<NodeJS.Timeout>();
  const scheduler = new DefaultScheduler(
    graph,
    {
      declareRequiredSlots: () => undefined,
      deploy: async () => {
        if (++deployed === graph.totalSubtasks) allDeployed();
      },
      cancelTask: async () => undefined,
      releaseSlot: () => undefined,
      releasePartitions: () => undefined,
      jobTerminated: () => undefined,
      schedule: (ms, fn) => {
        const h = setTimeout(fn, ms);
        timers.add(h);
        return () => clearTimeout(h);
      },
    },
    silentLogger(),
  );
  // Simulated TaskExecutors: 100 slots each, offered as the ResourceManager would (one offer per TaskExecutor).
  const slotsPerTe = 100;
  t = performance.now();
  scheduler.startScheduling();
  for (let te = 0; te * slotsPerTe < P; te++) {
    const slots: AssignedSlot[] = [];
    for (let i = 0; i < slotsPerTe && te * slotsPerTe + i < P; i++) slots.push({ allocationId: newId(), taskExecutorId: `te${te}`, slotIndex: i });
    scheduler.newSlotsAvailable(slots);
  }
  if (type === "BLOCKING") {
    // Finish the sources so the sink region is scheduled and deployed too.
    for (const ev of graph.jobVertices.get("source")!.taskVertices) {
      const e = ev.currentExecution;
      for (const s of ["INITIALIZING", "RUNNING", "FINISHED"] as const) scheduler.updateTaskExecutionState({ attemptId: e.attemptId, state: s });
    }
  }
  await done;
  const deployMs = performance.now() - t;

  const failed = graph.jobVertices.get("source")!.taskVertices[0]!;
  const strategy = new RestartPipelinedRegionFailoverStrategy(topology);
  t = performance.now();
  const toRestart = strategy.tasksToRestart(failed);
  const failoverMs = performance.now() - t;

  gc();
  const heapMb = (process.memoryUsage().heapUsed - heap0) / (1 << 20);
  for (const h of timers) clearTimeout(h);
  console.log(
    JSON.stringify({
      parallelism: P,
      type,
      tasks: graph.totalSubtasks,
      regions: topology.regions.length,
      initMs,
      deployMs,
      failoverMs,
      tasksToRestart: toRestart.size,
      heapMb,
    }),
  );
  process.exit(0);
}

void main();
