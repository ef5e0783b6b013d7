/**
 * The bundle cache of a worker (Flink's BlobCache): fetches bundles from the {@link BundleStore},
 * verifies each against its id (SHA-256) before anything can load it, and keeps it as a file in a
 * directory of its own, so later tasks of the same bundle find it on disk. Concurrent requests
 * for one bundle share one download. The directory is removed by {@link BundleCache.close}.
 */
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EddyError, ErrorCode } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { bundleIdOf, type BundleRef } from "./bundle-ref.js";
import type { BundleStore } from "./bundle-store.js";

/** What a cache did so far. */
export interface BundleCacheStats {
  /** Downloads from the store (one per bundle, unless one failed and was retried). */
  fetches: number;
  /** Requests answered from disk. */
  hits: number;
  /** Requests that waited for a download already under way. */
  joined: number;
  /** Downloads that failed (not found, corrupt, storage). */
  failures: number;
}

/** Options of a {@link BundleCache}. */
export interface BundleCacheOptions {
  /** Where the cache makes its directory (default `os.tmpdir()`). */
  parentDir?: string;
  /** Prefix of the directory's name (default `eddy-bundles-`). */
  name?: string;
  /** Logs each download ("bundle fetched", info) and each failed one (warn). */
  log?: Logger;
}

/** A worker's verified bundles on disk: `<dir>/<sha256>.mjs`. */
export class BundleCache {
  readonly stats: BundleCacheStats = { fetches: 0, hits: 0, joined: 0, failures: 0 };
  private readonly ready = new Map<string, string>();
  private readonly inflight = new Map<string, Promise<string>>();
  private dir: Promise<string> | undefined;
  private store: Promise<BundleStore> | undefined;
  private closed = false;

  constructor(
    /** Opens the store on first use (and again after a failed open). */
    private readonly openStore: () => Promise<BundleStore>,
    private readonly opts: BundleCacheOptions = {},
  ) {}

  /**
   * The path of the verified file of bundle `ref`, fetched on first use. EddyError
   * `BundleNotFound`, `BundleCorrupt` (nothing is cached then) or `BundleStorageFailed`.
   */
  get(ref: BundleRef): Promise<string> {
    if (this.closed) return Promise.reject(new EddyError(ErrorCode.Shutdown, "the bundle cache is closed"));
    const path = this.ready.get(ref.id);
    if (path !== undefined) {
      this.stats.hits++;
      return Promise.resolve(path);
    }
    const pending = this.inflight.get(ref.id);
    if (pending) {
      this.stats.joined++;
      return pending;
    }
    const p = this.fetch(ref).finally(() => this.inflight.delete(ref.id));
    this.inflight.set(ref.id, p);
    return p;
  }

  /** True when bundle `id` is on disk here. */
  has(id: string): boolean {
    return this.ready.has(id);
  }

  /** The cache directory, when one was made. */
  async directory(): Promise<string | undefined> {
    return this.dir;
  }

  /** Removes the directory and everything in it; later requests fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inflight.values()]);
    const dir = await this.dir?.catch(() => undefined); // never created: nothing to remove
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined); // best effort: a temp dir left behind costs only space
    this.ready.clear();
  }

  private async fetch(ref: BundleRef): Promise<string> {
    this.stats.fetches++;
    const started = Date.now();
    try {
      const store = await (this.store ??= this.openStore().catch((err: unknown) => {
        this.store = undefined;
        throw err;
      }));
      const bytes = await store.read(ref);
      const actual = bundleIdOf(bytes);
      if (actual !== ref.id) {
        throw new EddyError(ErrorCode.BundleCorrupt, `bundle ${ref.id} is corrupt: its bytes hash to ${actual}; it was not cached (upload the job again)`, {
          details: { bundle: ref.id, actual },
        });
      }
      const dir = await (this.dir ??= mkdtemp(join(this.opts.parentDir ?? tmpdir(), this.opts.name ?? "eddy-bundles-")));
      if (this.closed) throw new EddyError(ErrorCode.Shutdown, "the bundle cache is closed");
      const path = join(dir, `${ref.id}.mjs`);
      // Written aside and renamed, so that a reader never sees part of a file.
      const partial = `${path}.${process.pid}.partial`;
      await writeFile(partial, bytes);
      await rename(partial, path);
      this.ready.set(ref.id, path);
      this.opts.log?.info({ bundle: ref.id, bytes: ref.size, ms: Date.now() - started, fetches: this.stats.fetches }, "bundle fetched");
      return path;
    } catch (err) {
      this.stats.failures++;
      this.opts.log?.warn({ err, bundle: ref.id }, "bundle fetch failed");
      throw err;
    }
  }
}
