/**
 * Child of `npm run profile -- windowed-events` (started with `--cpu-prof`): runs
 * examples/windowed-events.ts once through the runtime in this thread, as the stream bench does, and
 * prints the job's window on the profile clock as one JSON line `{fromUs, toUs, events}`.
 * Usage: `node --cpu-prof dist/test/profile/windowed-events-run.js EVENTS OUTPUT_DIR`.
 */
import { connectNats } from "../../src/rpc/nats.js";
import windowedEvents from "../../examples/windowed-events.js";
import { runLocally } from "../helpers/local-runtime.js";
import { startTestNats } from "../helpers/nats-server.js";
import { monotonicUs } from "./cpuprofile.js";

const events = Number(process.argv[2] ?? 500_000);
const output = process.argv[3];
if (!output || !(events > 0)) throw new Error("usage: windowed-events-run.js EVENTS OUTPUT_DIR");
const nats = await startTestNats();
const nc = await connectNats(nats.url, "profile-windowed-events");
try {
  const spec = await windowedEvents(["--events", String(events), "--output", output], { parallelism: 1 });
  const fromUs = monotonicUs();
  await runLocally(spec, { nc }, 600_000);
  const toUs = monotonicUs();
  console.log(JSON.stringify({ fromUs, toUs, events }));
} finally {
  await nc.close();
  await nats.stop();
}
