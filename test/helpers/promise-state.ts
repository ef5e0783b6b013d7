/**
 * Where a promise stands once everything already due has run (one turn of the event loop): for
 * tests that prove something is still waiting without racing a timer (no machine-speed dependence).
 */
export async function promiseState(p: Promise<unknown>): Promise<"pending" | "resolved" | "rejected"> {
  let state: "pending" | "resolved" | "rejected" = "pending";
  p.then(
    () => (state = "resolved"),
    () => (state = "rejected"),
  );
  await new Promise<void>((r) => setImmediate(r));
  return state;
}
