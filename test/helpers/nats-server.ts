/**
 * Starts a private nats-server (never the shared one on 4222) on a free loopback port for a test.
 * Uses NATS_SERVER_BIN or /usr/sbin/nats-server. `jetstream: true` adds `-js` with a temporary store.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running test server. */
export interface TestNats {
  url: string;
  port: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ port, host: "127.0.0.1" }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

/** Starts nats-server on a free port; resolves once it accepts connections. */
export async function startTestNats(opts: { jetstream?: boolean; args?: string[] } = {}): Promise<TestNats> {
  const bin = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = ["-p", String(port), "-a", "127.0.0.1", ...(opts.args ?? [])];
    let storeDir: string | undefined;
    if (opts.jetstream) {
      storeDir = mkdtempSync(join(tmpdir(), "eddy-test-js-"));
      args.push("-js", "-sd", storeDir);
    }
    const proc: ChildProcess = spawn(bin, args, { stdio: "ignore" });
    let exited = false;
    proc.once("exit", () => (exited = true));
    const deadline = Date.now() + 5_000;
    while (!exited && Date.now() < deadline && !(await canConnect(port))) await new Promise((r) => setTimeout(r, 20));
    if (!exited && (await canConnect(port))) {
      return {
        url: `nats://127.0.0.1:${port}`,
        port,
        stop: () =>
          new Promise<void>((resolve) => {
            const done = () => {
              if (storeDir) rmSync(storeDir, { recursive: true, force: true });
              resolve();
            };
            if (exited) return done();
            proc.once("exit", done);
            proc.kill("SIGTERM");
            setTimeout(() => proc.kill("SIGKILL"), 2_000).unref();
          }),
      };
    }
    proc.kill("SIGKILL");
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    if (attempt >= 2) throw new Error(`nats-server did not start on port ${port}`);
  }
}
