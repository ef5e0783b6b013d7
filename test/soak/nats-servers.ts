/**
 * The soak's three-server NATS cluster with JetStream, from the repository's `nats-cluster.conf`,
 * one server per host (round robin when there are fewer hosts): each listens on its host's address
 * (client and route ports), keeps its name and store across a SIGKILL and restart.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { findNatsServerBinary, freePort } from "../../src/cluster/nats-server.js";
import { natsClusterConfPath } from "../../src/cluster/paths.js";
import { connectNats } from "../../src/rpc/nats.js";
import type { Host } from "./hosts.js";

/** One server of the cluster. */
export interface SoakNatsServer {
  name: string;
  host: Host;
  url: string;
  logPath: string;
  /** The running process (undefined while killed). */
  proc: ChildProcess | undefined;
}

/** The running cluster. */
export interface SoakNats {
  servers: SoakNatsServer[];
  /** Every client URL, comma-separated. */
  url: string;
  kill(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

const READY_MS = 30_000;

/** Starts three servers on `hosts` (server i on host i mod hosts) and waits until each answers JetStream requests. */
export async function startSoakNats(hosts: Host[], dir: string, isolated: boolean): Promise<SoakNats> {
  const binary = findNatsServerBinary();
  const size = 3;
  // Separate namespaces: every server has the same ports on its own address. One namespace: free ports.
  const ports = await Promise.all(Array.from({ length: size }, () => (isolated ? 4222 : freePort())));
  const routePorts = await Promise.all(Array.from({ length: size }, () => (isolated ? 6222 : freePort())));
  const placed = Array.from({ length: size }, (_, i) => hosts[i % hosts.length]!);
  const routes: Record<string, string> = {};
  routePorts.forEach((p, i) => (routes[`EDDY_NATS_ROUTE_${i + 1}`] = `nats://${placed[i]!.ip}:${p}`));
  const servers: SoakNatsServer[] = placed.map((host, i) => ({
    name: `n${i + 1}`,
    host,
    url: `nats://${host.ip}:${ports[i]}`,
    logPath: join(dir, `n${i + 1}`, "nats-server.log"),
    proc: undefined,
  }));
  const launch = (i: number) => {
    const s = servers[i]!;
    const storeDir = join(dir, s.name);
    mkdirSync(storeDir, { recursive: true });
    const fd = openSync(s.logPath, "a");
    const args = [
      "-c",
      natsClusterConfPath(),
      "-a",
      s.host.ip,
      "-p",
      String(ports[i]),
      "-sd",
      storeDir,
      "-n",
      s.name,
      "--cluster",
      `nats://${s.host.ip}:${routePorts[i]}`,
    ];
    const [cmd, ...pre] = [...s.host.wrap, binary];
    try {
      s.proc = spawn(cmd!, [...pre, ...args], {
        stdio: ["ignore", fd, fd],
        env: { ...process.env, ...routes, EDDY_NATS_NAME: s.name, EDDY_NATS_PORT: String(ports[i]), EDDY_NATS_CLUSTER_PORT: String(routePorts[i]) },
      });
    } finally {
      closeSync(fd);
    }
    return ready(s);
  };
  const kill = async (i: number) => {
    const p = servers[i]!.proc;
    servers[i]!.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once("exit", r));
    p.kill("SIGKILL");
    await gone;
  };
  try {
    await Promise.all(servers.map((_, i) => launch(i)));
  } catch (err) {
    await Promise.all(servers.map((_, i) => kill(i)));
    throw err;
  }
  return {
    servers,
    url: servers.map((s) => s.url).join(","),
    kill,
    async restart(i) {
      if (!servers[i]!.proc) await launch(i);
    },
    async stop() {
      await Promise.all(servers.map((_, i) => kill(i)));
    },
  };
}

/** Waits until `s` accepts a connection as itself and its JetStream answers. */
async function ready(s: SoakNatsServer): Promise<void> {
  const deadline = Date.now() + READY_MS;
  for (;;) {
    const p = s.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) throw new Error(`nats-server ${s.name} exited during startup (log: ${s.logPath})`);
    const nc = await connectNats(s.url, "soak-probe", { timeoutMs: 1_000, reconnect: false }).catch(() => undefined);
    if (nc) {
      const ok =
        nc.info?.server_name === s.name &&
        (await nc.request("$JS.API.INFO", new Uint8Array(0), { timeout: 2_000 }).then(
          () => true,
          () => false,
        ));
      await nc.close().catch(() => undefined);
      if (ok) return;
    }
    if (Date.now() > deadline) throw new Error(`nats-server ${s.name} not ready within ${READY_MS} ms (log: ${s.logPath})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
