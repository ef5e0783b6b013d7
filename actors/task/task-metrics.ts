/**
 * The metrics of one task attempt, read from what its network input and output count per buffer
 * (records, bytes, pool usage, watermarks) and from its {@link IoTimer} (busy, idle, back-pressured
 * time). Nothing here runs per record: the slot's {@link SlotMetrics} samples it once a second.
 * Chained operators report as their chain (the task), as Flink's REST vertex metrics do.
 */
import type { TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import { IoTimer, type NetworkConfig, type RecordWriterOutput, type UnionInput } from "../../src/network/index.js";
import { F, TASK_FIELDS, taskValuesToWire, type TaskEntry } from "../../src/metrics/index.js";
import type { SubtaskStateSnapshot } from "../../src/checkpoint/types.js";

/** One task's counters. */
export class TaskMetrics {
  readonly timer = new IoTimer();
  private input: UnionInput | undefined;
  private output: RecordWriterOutput | undefined;
  private stateSize = 0;
  private readonly values = new Float64Array(TASK_FIELDS.length);
  private readonly times = { busy: 0, idle: 0, backPressured: 0 };

  constructor(
    private readonly tdd: TaskDeploymentDescriptor,
    private readonly cfg: Pick<NetworkConfig, "creditsPerChannel" | "floatingCreditsPerGate">,
  ) {}

  get attemptId(): string {
    return this.tdd.attemptId;
  }

  /** The task's network input and output, once created. */
  attach(input: UnionInput, output: RecordWriterOutput): void {
    this.input = input;
    this.output = output;
  }

  /** A checkpoint was acknowledged with these handles: their bytes are the task's state size. */
  acknowledged(snapshot: SubtaskStateSnapshot): void {
    let bytes = 0;
    for (const op of Object.values(snapshot.operators)) bytes += (op.keyed?.bytes ?? 0) + (op.operator?.bytes ?? 0) + (op.raw?.bytes ?? 0);
    this.stateSize = bytes;
  }

  /** The task's current values as a report entry (`final`: its last one). */
  sample(final = false): TaskEntry {
    const v = this.values;
    const input = this.input;
    const output = this.output;
    this.timer.sample(this.times);
    v[F.numRecordsIn] = input?.stats.recordsReceived ?? 0;
    v[F.numRecordsOut] = output?.recordsSent ?? 0;
    v[F.numBytesIn] = input?.bytesReceived ?? 0;
    v[F.numBytesOut] = output?.stats.bytesSent ?? 0;
    v[F.accumulatedBusyTime] = Math.round(this.times.busy);
    v[F.accumulatedIdleTime] = Math.round(this.times.idle);
    v[F.accumulatedBackPressuredTime] = Math.round(this.times.backPressured);
    v[F.currentInputWatermark] = input?.currentWatermark ?? Number.NEGATIVE_INFINITY;
    v[F.currentOutputWatermark] = output?.lastWatermark ?? Number.NEGATIVE_INFINITY;
    v[F["buffers.inPoolUsage"]] = input ? input.inPoolUsage(this.cfg.creditsPerChannel, this.cfg.floatingCreditsPerGate) : 0;
    v[F["buffers.outPoolUsage"]] = output?.outPoolUsage ?? 0;
    v[F.stateSize] = this.stateSize;
    const tdd = this.tdd;
    return {
      jobId: tdd.jobId,
      jobName: tdd.jobName,
      vertexId: tdd.vertexId,
      taskName: tdd.vertexName,
      subtask: tdd.subtaskIndex,
      attempt: tdd.attemptNumber,
      attemptId: tdd.attemptId,
      values: taskValuesToWire(v),
      ...(final ? { final: true } : {}),
    };
  }
}
