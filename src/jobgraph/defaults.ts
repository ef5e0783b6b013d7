/** Defaults a validated JobGraph gets when the submitted one leaves them out. */
import type { DistributionPattern, PartitionerType, ResultPartitionType } from "./types.js";

/** Lower bound of the default max parallelism (Flink's DEFAULT_LOWER_BOUND_MAX_PARALLELISM). */
export const DEFAULT_LOWER_BOUND_MAX_PARALLELISM = 128;
/** Highest max parallelism (Flink's UPPER_BOUND_MAX_PARALLELISM, 2^15). */
export const UPPER_BOUND_MAX_PARALLELISM = 32768;

/** The smallest power of two >= x (x >= 1; 1 for x <= 1). */
export function roundUpToPowerOfTwo(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/**
 * Flink's default max parallelism for an operator of parallelism `p`
 * (KeyGroupRangeAssignment.computeDefaultMaxParallelism):
 * `min(max(roundUpToPowerOfTwo(p + floor(p / 2)), 128), 32768)`.
 */
export function defaultMaxParallelism(parallelism: number): number {
  const p = Math.trunc(parallelism);
  return Math.min(Math.max(roundUpToPowerOfTwo(p + Math.floor(p / 2)), DEFAULT_LOWER_BOUND_MAX_PARALLELISM), UPPER_BOUND_MAX_PARALLELISM);
}

/** The distribution pattern a partitioner implies: forward/rescale POINTWISE, the others ALL_TO_ALL. */
export function distributionOf(partitioner: PartitionerType): DistributionPattern {
  return partitioner === "forward" || partitioner === "rescale" ? "POINTWISE" : "ALL_TO_ALL";
}

/** Default values filled in by `validateJobGraph`. */
export const JobGraphDefaults = {
  slotSharingGroup: "default",
  resultPartitionType: "PIPELINED" as ResultPartitionType,
  bufferTimeoutMs: 100,
  bufferRecords: 4096,
} as const;
