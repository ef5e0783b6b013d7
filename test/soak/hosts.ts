/**
 * Simulated hosts for the soak: each host is a network namespace with one veth link to a bridge in
 * the root namespace (where the soak's driver runs), so a host is partitioned by taking its link
 * down. Needs root and `ip netns`; elsewhere every "host" is the root namespace on 127.0.0.1 and
 * partitions are not possible (the report says so).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

/** One simulated host. */
export interface Host {
  index: number;
  /** The namespace's name, or "" for the root namespace. */
  ns: string;
  /** The address its servers listen on and others reach it at. */
  ip: string;
  /** Command prefix that runs a program on this host (empty in the root namespace). */
  wrap: string[];
}

/** The hosts of one soak run. */
export interface Hosts {
  /** True when hosts are separate namespaces (partitions possible). */
  isolated: boolean;
  /** Why the hosts are not isolated (when they are not). */
  fallbackReason?: string;
  hosts: Host[];
  /** Takes host `i`'s link down for `ms`, then up again. */
  partition(i: number, ms: number): Promise<void>;
  /** Removes the namespaces, links and bridge (idempotent). */
  tearDown(): void;
}

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Why namespaces cannot be used here, or undefined when they can. */
function unsupported(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  try {
    ip("netns", "list");
    return undefined;
  } catch (err) {
    return `ip netns is not available (${(err as Error).message.split("\n")[0]})`;
  }
}

/** A /24 in 10.0.0.0/8 that no route of this machine uses. */
function freeSubnet(): string {
  const routes = ip("-4", "route", "show", "table", "all");
  for (let i = 0; i < 50; i++) {
    const b = randomBytes(2);
    const net = `10.${200 + (b[0]! % 50)}.${b[1]! % 250}`;
    if (!routes.includes(`${net}.`)) return net;
  }
  throw new Error("no free 10.x.y.0/24 subnet for the soak's hosts");
}

/** `n` hosts: namespaces joined by veth links to a bridge (unless `namespaces` is false), or the root namespace `n` times. */
export function setUpHosts(n: number, namespaces = true): Hosts {
  const why = namespaces ? unsupported() : "namespaces turned off (--no-namespaces)";
  if (why) return rootOnly(n, why);
  const tag = randomBytes(2).toString("hex");
  const bridge = `esb${tag}`;
  const net = freeSubnet();
  const hosts: Host[] = [];
  const links: string[] = [];
  let down = false;
  const tearDown = () => {
    if (down) return;
    down = true;
    for (const h of hosts) {
      try {
        ip("netns", "del", h.ns);
      } catch {
        // already gone
      }
    }
    try {
      ip("link", "del", bridge);
    } catch {
      // already gone
    }
  };
  try {
    ip("link", "add", bridge, "type", "bridge");
    ip("addr", "add", `${net}.254/24`, "dev", bridge);
    ip("link", "set", bridge, "up");
    for (let i = 0; i < n; i++) {
      const ns = `eddysoak-${tag}-h${i}`;
      const outside = `esv${tag}${i}`;
      const inside = `esp${tag}${i}`;
      ip("netns", "add", ns);
      hosts.push({ index: i, ns, ip: `${net}.${i + 1}`, wrap: ["ip", "netns", "exec", ns] });
      ip("link", "add", outside, "type", "veth", "peer", "name", inside);
      links.push(outside);
      ip("link", "set", inside, "netns", ns);
      ip("link", "set", outside, "master", bridge);
      ip("link", "set", outside, "up");
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "link", "set", inside, "name", "eth0");
      ip("-n", ns, "addr", "add", `${net}.${i + 1}/24`, "dev", "eth0");
      ip("-n", ns, "link", "set", "eth0", "up");
    }
  } catch (err) {
    tearDown();
    return rootOnly(n, `network namespaces could not be set up (${(err as Error).message.split("\n")[0]})`);
  }
  return {
    isolated: true,
    hosts,
    async partition(i, ms) {
      const link = links[i]!;
      ip("link", "set", link, "down");
      try {
        await new Promise((r) => setTimeout(r, ms));
      } finally {
        if (!down) ip("link", "set", link, "up");
      }
    },
    tearDown,
  };
}

function rootOnly(n: number, reason: string): Hosts {
  const hosts = Array.from({ length: n }, (_, index) => ({ index, ns: "", ip: "127.0.0.1", wrap: [] }));
  return {
    isolated: false,
    fallbackReason: reason,
    hosts,
    partition() {
      return Promise.reject(new Error("partitions need separate network namespaces"));
    },
    tearDown() {},
  };
}
