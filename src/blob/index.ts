/**
 * The blob service (Flink's BlobServer and BlobCache) for job bundles: the content-addressed
 * {@link BundleStore} in JetStream Object Store, and the {@link BundleCache} through which workers
 * fetch, verify and keep bundles on disk.
 */
export { MAX_BUNDLE_BYTES } from "./limits.js";
export { BUNDLE_ID_PATTERN, bundleIdOf, bundleRefOf, checkBundleRef, type BundleRef } from "./bundle-ref.js";
export { BundleStore, objectDigestOf, type PutResult } from "./bundle-store.js";
export { BundleCache, type BundleCacheOptions, type BundleCacheStats } from "./bundle-cache.js";
