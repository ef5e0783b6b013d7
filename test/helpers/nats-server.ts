/**
 * Starts a private nats-server for a test (never the shared one on 4222): the repository's
 * `nats.conf` (JetStream on, max_payload 4MB, loopback), plus any configuration the test adds, on
 * a free port, with a fresh temporary store directory removed on stop. Binary: EDDY_NATS_SERVER or
 * NATS_SERVER_BIN, else nats-server on PATH or in /usr/sbin.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer, type NatsServerHandle } from "../../src/cluster/nats-server.js";
import { natsConfPath } from "../../src/cluster/paths.js";
import type { NatsAuth } from "../../src/rpc/nats.js";

/** A running test server. */
export interface TestNats {
  url: string;
  port: number;
  /** The JetStream store directory (removed by stop). */
  storeDir: string;
  /** The server's log file (inside storeDir). */
  logPath: string;
  /** SIGTERM (SIGKILL after 5 s), then removes the store directory. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL at once, keeping the store (a crash); stop() still cleans up. */
  kill(): Promise<void>;
  /** The underlying handle. */
  server: NatsServerHandle;
}

/** Options kept for older callers: JetStream is always on; `args` are extra nats-server flags. */
export interface TestNatsOptions {
  /** Accepted for compatibility; JetStream is always enabled by nats.conf. */
  jetstream?: boolean;
  /** Extra nats-server arguments. */
  args?: string[];
  /** Configuration appended to nats.conf (e.g. a `tls { }` block). */
  conf?: string;
  /** Credentials the readiness probe connects with, when `conf` makes the server refuse anonymous clients. */
  probeAuth?: NatsAuth;
}

/** Starts nats-server on a free port; resolves once it accepts connections and JetStream answers. */
export async function startTestNats(opts: TestNatsOptions = {}): Promise<TestNats> {
  const storeDir = mkdtempSync(join(tmpdir(), "eddy-test-nats-"));
  let server: NatsServerHandle;
  try {
    const confPath = opts.conf === undefined ? undefined : join(storeDir, "nats.conf");
    if (confPath) writeFileSync(confPath, `${readFileSync(natsConfPath(), "utf8")}\n${opts.conf}\n`);
    server = await startNatsServer({
      port: 0,
      storeDir,
      extraArgs: opts.args ?? [],
      ...(confPath ? { confPath } : {}),
      ...(opts.probeAuth ? { probeAuth: opts.probeAuth } : {}),
    });
  } catch (err) {
    rmSync(storeDir, { recursive: true, force: true });
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    storeDir,
    logPath: server.logPath,
    server,
    stop: () =>
      (stopping ??= (async () => {
        await server.stop();
        rmSync(storeDir, { recursive: true, force: true });
      })()),
    kill: () => server.kill(),
  };
}
