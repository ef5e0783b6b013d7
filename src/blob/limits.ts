/** Largest bundle accepted: 256 MiB (a bundle is the job's code and its dependencies, not its data). */
export const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;
