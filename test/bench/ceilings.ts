/**
 * The ceilings Eddy's WordCount is held against, measured in the same run: the CPU ceiling (read,
 * tokenize and count in one loop) and the transport ceiling (the same words packed with msgpackr
 * in batches of 1024 and sent between two processes over NATS).
 */
import { readFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { forEachWord } from "../../src/runtime/invokables/index.js";
import { packData } from "../../src/codec/codec.js";
import { connectNats } from "../../src/rpc/nats.js";

/** Tokenizes and counts every word of `path` in this thread; returns words per second. */
export function cpuCeiling(path: string): { words: number; recordsPerSec: number } {
  const t0 = performance.now();
  const text = readFileSync(path, "utf8");
  const counts = new Map<string, number>();
  let words = 0;
  for (const line of text.split("\n")) {
    forEachWord(line, (w) => {
      counts.set(w, (counts.get(w) ?? 0) + 1);
      words++;
    });
  }
  const s = (performance.now() - t0) / 1000;
  return { words, recordsPerSec: words / s };
}

/**
 * Sends the tokenized `[word, 1]` records of `path` in msgpack batches of 1024 to a consumer
 * process that unpacks and counts them; a window of 32 batches in flight keeps it lossless.
 */
export async function transportCeiling(natsUrl: string, path: string): Promise<{ words: number; recordsPerSec: number }> {
  const subject = `bench.transport.${process.pid}`;
  const consumer = spawn(process.execPath, [fileURLToPath(new URL("./transport-consumer.js", import.meta.url)), natsUrl, subject], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = new Promise<void>((resolve, reject) => {
    consumer.stdout!.once("data", () => resolve());
    consumer.once("exit", (c) => reject(new Error(`consumer exited ${c}`)));
  });
  await ready;
  const nc = await connectNats(natsUrl, "bench-producer");
  const t0 = performance.now();
  const text = readFileSync(path, "utf8");
  let batch: unknown[] = [];
  let words = 0;
  let sent = 0;
  const pending: Promise<unknown>[] = [];
  const flush = async () => {
    nc.publish(subject, packData(batch));
    batch = [];
    if (++sent % 32 === 0) {
      pending.push(nc.request(`${subject}.sync`, packData(sent), { timeout: 30_000 }));
      if (pending.length > 1) await pending.shift();
    }
  };
  for (const line of text.split("\n")) {
    forEachWord(line, (w) => {
      batch.push([w, 1]);
      words++;
    });
    if (batch.length >= 1024) await flush();
  }
  if (batch.length) await flush();
  const done = await nc.request(`${subject}.done`, packData(sent), { timeout: 60_000 });
  const s = (performance.now() - t0) / 1000;
  const counted = Number(new TextDecoder().decode(done.data));
  await Promise.all(pending);
  await nc.close();
  consumer.kill("SIGTERM");
  if (counted !== words) throw new Error(`transport ceiling lost records: sent ${words}, counted ${counted}`);
  return { words, recordsPerSec: words / s };
}
