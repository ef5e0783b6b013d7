/** A nats-server, a client connection and a temp dir for tests that run stream-API jobs in process. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { startTestNats, type TestNats } from "./nats-server.js";

export interface StreamTestEnv {
  nc: NatsConnection;
  dir: string;
  /** A fresh file path in the temp dir. */
  file(name: string): string;
  stop(): Promise<void>;
}

export async function startStreamTestEnv(name: string): Promise<StreamTestEnv> {
  const nats: TestNats = await startTestNats();
  const nc = await connectNats(nats.url, name);
  const dir = mkdtempSync(join(tmpdir(), `eddy-${name}-`));
  let n = 0;
  return {
    nc,
    dir,
    file: (f) => join(dir, `${n++}-${f}`),
    async stop() {
      await nc.close();
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The lines of a file (no trailing empty line). */
export function readLines(path: string): string[] {
  const text = readFileSync(path, "utf8");
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

/** A deterministic pseudo-random generator (LCG) in [0, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
