/**
 * A private three-server NATS cluster with JetStream for tests, from the repository's
 * `nats-cluster.conf` template: free client and route ports, one store directory per server, stable
 * server names so that a server killed with SIGKILL can come back as the same JetStream peer.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startNatsServer, type NatsServerHandle } from "../../src/cluster/nats-server.js";
import { natsClusterConfPath } from "../../src/cluster/paths.js";

/** A running test cluster. */
export interface TestNatsCluster {
  /** Every client URL, comma-separated (what `--nats` takes). */
  url: string;
  urls: string[];
  /** The running server of each node (undefined while killed). */
  servers: Array<NatsServerHandle | undefined>;
  /** SIGKILL node `i` (its store stays). */
  kill(i: number): Promise<void>;
  /** Starts node `i` again with its name, ports and store. */
  restart(i: number): Promise<void>;
  /** Stops every node and removes the stores. */
  stop(): Promise<void>;
}

/** Starts three clustered nats-servers and waits until JetStream answers on each. */
export async function startTestNatsCluster(size = 3): Promise<TestNatsCluster> {
  const root = mkdtempSync(join(tmpdir(), "eddy-test-nats-cluster-"));
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes: Record<string, string> = {};
  routePorts.forEach((p, i) => (routes[`EDDY_NATS_ROUTE_${i + 1}`] = `nats://127.0.0.1:${p}`));
  const node = (i: number) => {
    const storeDir = join(root, `n${i + 1}`);
    return {
      port: ports[i]!,
      storeDir,
      confPath: natsClusterConfPath(),
      serverName: `n${i + 1}`,
      readyTimeoutMs: 30_000,
      env: {
        ...routes,
        EDDY_NATS_NAME: `n${i + 1}`,
        EDDY_NATS_PORT: String(ports[i]),
        EDDY_NATS_CLUSTER_PORT: String(routePorts[i]),
      },
    };
  };
  const servers: Array<NatsServerHandle | undefined> = [];
  try {
    const started = await Promise.all(Array.from({ length: size }, (_, i) => startNatsServer(node(i))));
    servers.push(...started);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const urls = ports.map((p) => `nats://127.0.0.1:${p}`);
  return {
    url: urls.join(","),
    urls,
    servers,
    async kill(i) {
      await servers[i]?.kill();
      servers[i] = undefined;
    },
    async restart(i) {
      if (servers[i]) return;
      servers[i] = await startNatsServer(node(i));
    },
    async stop() {
      await Promise.all(servers.map((s) => s?.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
