/** The consumer process of the transport ceiling: unpacks batches and counts words per key. */
import { connectNats } from "../../src/rpc/nats.js";
import { unpackData } from "../../src/codec/codec.js";

const [natsUrl, subject] = process.argv.slice(2) as [string, string];
const nc = await connectNats(natsUrl, "bench-consumer");
const counts = new Map<string, number>();
let words = 0;
let batches = 0;
const waiting: Array<{ upTo: number; respond: () => void }> = [];
nc.subscribe(subject, {
  callback: (_e, m) => {
    for (const r of unpackData(m.data) as Array<[string, number]>) {
      counts.set(r[0], (counts.get(r[0]) ?? 0) + r[1]);
      words++;
    }
    batches++;
    for (let i = waiting.length - 1; i >= 0; i--) if (waiting[i]!.upTo <= batches) waiting.splice(i, 1)[0]!.respond();
  },
});
for (const name of ["sync", "done"]) {
  nc.subscribe(`${subject}.${name}`, {
    callback: (_e, m) => {
      const upTo = unpackData(m.data) as number;
      const respond = () => m.respond(new TextEncoder().encode(String(words)));
      if (batches >= upTo) respond();
      else waiting.push({ upTo, respond });
    },
  });
}
await nc.flush();
process.stdout.write("ready\n");
process.on("SIGTERM", () => void nc.close().then(() => process.exit(0)));
