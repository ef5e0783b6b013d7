/** Periodic refresh of what the live stream does not carry (the TaskExecutors, the throughput chart). */

/** Re-runs `tick` every `ms` while the view lives, never two at once. */
export function poll(ms: number, tick: () => Promise<void>): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const run = async () => {
    await tick().catch(() => undefined); // shown by the view; the next tick tries again
    if (!stopped) timer = setTimeout(run, ms);
  };
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
