/** Stable error codes of the blob service (bundles of user code). Never rename one: clients match on them. */
export const BlobErrorCode = {
  /** A bundle named by a JobGraph, an application or a task is not in the bundle store. */
  BundleNotFound: "BundleNotFound",
  /** A bundle's bytes do not hash to its id, or their size is not the recorded one. */
  BundleCorrupt: "BundleCorrupt",
  /** A bundle is larger than {@link MAX_BUNDLE_BYTES}. */
  BundleTooLarge: "BundleTooLarge",
  /** The bundle store could not be read or written (NATS failure); retrying may help. */
  BundleStorageFailed: "BundleStorageFailed",
} as const;
export type BlobErrorCode = (typeof BlobErrorCode)[keyof typeof BlobErrorCode];

/** Largest bundle accepted: 256 MiB (a bundle is the job's code and its dependencies, not its data). */
export const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;
