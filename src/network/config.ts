/** Settings of the data-exchange layer, with Flink-like defaults. */

/** Tunables of a {@link NetworkEnvironment}; every field has a default ({@link DEFAULT_NETWORK_CONFIG}). */
export interface NetworkConfig {
  /** Exclusive credits (buffers in flight or unrecycled) per input channel; always circulate. Default 2. */
  creditsPerChannel: number;
  /**
   * Floating credits per input gate, lent to the channels whose producer reports a backlog and
   * returned to the gate once that backlog is gone (Flink's floating buffers). Default 16: over NATS
   * a credit's round trip takes a few ms, and the window must cover it (2 + 8 as in Flink halves throughput).
   */
  floatingCreditsPerGate: number;
  /** Finished, unsent buffers a subpartition may hold before the output reports unavailable. Default 16. */
  maxBacklogBuffers: number;
  /** Encoded size a buffer on a link that encodes (NATS, other threads) aims at; the record target adapts to it. Default 32 KiB. */
  targetBufferBytes: number;
  /** Largest encoded frame; a bigger buffer is split, a single bigger record is RecordTooLarge. Default 900 KiB. */
  maxFrameBytes: number;
  /** How long a consumer waits for its producer to appear before failing with PartitionNotFound. Default 30 s. */
  partitionRequestTimeoutMs: number;
  /** First retry delay of a partition request; doubles up to {@link requestBackoffMaxMs}. Default 10 ms. */
  requestBackoffInitialMs: number;
  /** Largest retry delay of a partition request. Default 500 ms. */
  requestBackoffMaxMs: number;
  /** Timeout of one partition request round trip over NATS. Default 2 s. */
  requestAttemptTimeoutMs: number;
  /**
   * BLOCKING partitions: JetStream publishes of one producer attempt awaiting their ack; frames beyond
   * wait in the producer and the output reports unavailable while this bound is reached. Default 32.
   */
  blockingMaxPendingPublishes: number;
  /** BLOCKING partitions: how long one JetStream publish waits for its ack before the producer fails. Default 10 s. */
  blockingPublishTimeoutMs: number;
  /** BLOCKING partitions: how long one pull (fetch) of a consumer channel waits for messages (at least 1 s). Default 5 s. */
  blockingFetchExpiresMs: number;
}

/** The defaults of {@link NetworkConfig}. */
export const DEFAULT_NETWORK_CONFIG: Readonly<NetworkConfig> = Object.freeze({
  creditsPerChannel: 2,
  floatingCreditsPerGate: 16,
  maxBacklogBuffers: 16,
  targetBufferBytes: 32 * 1024,
  maxFrameBytes: 900 * 1024,
  partitionRequestTimeoutMs: 30_000,
  requestBackoffInitialMs: 10,
  requestBackoffMaxMs: 500,
  requestAttemptTimeoutMs: 2_000,
  blockingMaxPendingPublishes: 32,
  blockingPublishTimeoutMs: 10_000,
  blockingFetchExpiresMs: 5_000,
});

/**
 * Default records per buffer when a descriptor gives none: 32 KiB (Flink's buffer) of 8-byte records
 * such as `[word, 1]`. Links that encode stop earlier for larger records ({@link NetworkConfig.targetBufferBytes}).
 * Costs paid per buffer (a NATS message and its credit, a MessagePort message, a wake-up of the consumer
 * task) are a large part of a small record's cost; 1024 left them at a quarter of Flink's buffer.
 */
export const DEFAULT_BUFFER_RECORDS = 4096;
/** Default buffer timeout, ms (Flink's execution.buffer-timeout). */
export const DEFAULT_BUFFER_TIMEOUT_MS = 100;

/** Fills the unset fields of a partial config with the defaults. */
export function networkConfig(partial: Partial<NetworkConfig> = {}): NetworkConfig {
  const c = { ...DEFAULT_NETWORK_CONFIG };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (c as Record<string, number>)[k] = v as number;
  return c;
}
