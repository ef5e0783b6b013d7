/**
 * The soak's fault kinds, injected into the running cluster:
 * - te-kill: SIGKILL a TaskExecutor, start a new one on its host;
 * - jm-kill: SIGKILL the leading JobManager, start it again on its host;
 * - te-zombie: SIGSTOP a TaskExecutor past its loss detection, then SIGCONT;
 * - jm-zombie: SIGSTOP the leading JobManager past its lease, then SIGCONT;
 * - nats-kill: SIGKILL a NATS server (the checkpoint bucket stream's leader when the schedule says
 *   so), start it again after a few seconds;
 * - partition: take one host's link down for a few seconds.
 * A process held by one fault is not taken by another; faults that take a NATS server (a kill, or a
 * partition of a host with a server) run one at a time so the cluster keeps its quorum.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { orTimeout, sleep, waitFor } from "../../src/core/time.js";
import type { Host, Hosts } from "./hosts.js";
import type { SoakCluster, SoakProcess } from "./cluster.js";
import type { FaultPart } from "./schedule.js";

/** How long a NATS fault waits, after its server is back, for every stream to have a leader and every replica current. */
const NATS_CATCH_UP_MS = 60_000;
/** How long a fault waits for the previous NATS fault to end. */
const NATS_LOCK_WAIT_MS = 90_000;

/** A fault that found no target (every candidate held by another fault, or no leader known): nothing was done. */
export class FaultSkipped extends Error {
  override name = "FaultSkipped";
}

/** Injects faults into one cluster; each call returns what it did, one line per action. */
export class FaultInjector {
  private natsLock: Promise<void> = Promise.resolve();

  constructor(
    private readonly cluster: SoakCluster,
    private readonly hosts: Hosts,
  ) {}

  /** Runs one fault part to its end (held, woken, replaced); resolves with what was done. */
  async inject(part: FaultPart): Promise<string> {
    switch (part.kind) {
      case "te-kill":
        return this.killTaskExecutor(part);
      case "jm-kill":
        return this.killLeader();
      case "te-zombie":
        return this.freezeTaskExecutor(part);
      case "jm-zombie":
        return this.freezeLeader(part);
      case "nats-kill":
        return this.withNatsLock(() => this.killNatsServer(part));
      case "partition":
        return this.withNatsLock(() => this.partition(part));
    }
  }

  private pickTaskExecutor(pick: number): SoakProcess | undefined {
    const free = this.cluster.live("taskexecutor").filter((p) => !p.busy);
    return free[Math.floor(pick * free.length)];
  }

  private async killTaskExecutor(part: FaultPart): Promise<string> {
    const te = this.pickTaskExecutor(part.pick);
    if (!te) throw new FaultSkipped("te-kill: no TaskExecutor free");
    return this.killAndReplace(te, "taskexecutor", () => this.cluster.startTaskExecutor(te.host));
  }

  /** SIGKILL, wait for the exit, start the replacement. */
  private async killAndReplace(p: SoakProcess, what: string, replace: () => SoakProcess): Promise<string> {
    p.busy = true;
    p.killedAt = Date.now();
    p.proc.kill();
    await p.proc.waitForExit(10_000);
    return `SIGKILL ${what} pid ${p.proc.pid} (host ${p.host.index}); started pid ${replace().proc.pid}`;
  }

  private async leader(): Promise<SoakProcess | undefined> {
    const l = await this.cluster.leader();
    return l && !l.busy ? l : undefined;
  }

  private async killLeader(): Promise<string> {
    const jm = await this.leader();
    if (!jm) throw new FaultSkipped("jm-kill: no free leader known");
    return this.killAndReplace(jm, "leading jobmanager", () => this.cluster.startJobManager(jm.host));
  }

  private async freezeTaskExecutor(part: FaultPart): Promise<string> {
    const te = this.pickTaskExecutor(part.pick);
    if (!te) throw new FaultSkipped("te-zombie: no TaskExecutor free");
    return this.freeze(te, part.holdMs, "taskexecutor", () => this.cluster.startTaskExecutor(te.host));
  }

  private async freezeLeader(part: FaultPart): Promise<string> {
    const jm = await this.leader();
    if (!jm) throw new FaultSkipped("jm-zombie: no free leader known");
    return this.freeze(jm, part.holdMs, "leading jobmanager", () => this.cluster.startJobManager(jm.host));
  }

  /** SIGSTOP for `ms`, SIGCONT; a process that exits on waking up is noted and replaced. */
  private async freeze(p: SoakProcess, ms: number, what: string, replace: () => SoakProcess): Promise<string> {
    p.busy = true;
    p.proc.signal("SIGSTOP");
    try {
      await sleep(ms);
    } finally {
      p.proc.signal("SIGCONT");
    }
    await sleep(2_000);
    p.busy = false;
    const done = `SIGSTOP ${what} pid ${p.proc.pid} (host ${p.host.index}) for ${ms} ms, SIGCONT`;
    if (!p.proc.exit) return done;
    p.killedAt = Date.now();
    const next = replace();
    return `${done}; it exited on waking (${JSON.stringify(p.proc.exit)}), started pid ${next.proc.pid}`;
  }

  private async killNatsServer(part: FaultPart): Promise<string> {
    const servers = this.cluster.nats.servers;
    let i = Math.floor(part.pick * servers.length);
    let why = "picked";
    if (part.streamLeader) {
      const stream = `KV_${this.cluster.subjects.bucket("checkpoints")}`;
      const leader = await jetstreamManager(this.cluster.nc)
        .then((jsm) => jsm.streams.info(stream))
        .then((si) => si.cluster?.leader)
        .catch(() => undefined);
      const at = servers.findIndex((s) => s.name === leader);
      if (at >= 0) {
        i = at;
        why = `leader of ${stream}`;
      }
    }
    const s = servers[i]!;
    await this.cluster.nats.kill(i);
    await sleep(part.holdMs);
    await this.cluster.nats.restart(i);
    return `SIGKILL nats-server ${s.name} (${why}, host ${s.host.index}) for ${part.holdMs} ms, restarted; ${await this.caughtUp()}`;
  }

  private async partition(part: FaultPart): Promise<string> {
    const h = this.hosts.hosts[Math.floor(part.pick * this.hosts.hosts.length)]!;
    const on = this.cluster.processes.filter((p) => p.host === h && !p.proc.exit).map((p) => `${p.role} ${p.proc.pid}`);
    const servers = this.cluster.nats.servers.filter((s) => s.host === h).map((s) => s.name);
    await this.steerDriverOff(h);
    await this.hosts.partition(h.index, part.holdMs);
    return `partition host ${h.index} (${[...servers, ...on].join(", ")}) for ${part.holdMs} ms; ${await this.caughtUp()}`;
  }

  /**
   * Moves the driver's own connection off a server on `h` before `h` is cut off: the driver (in the
   * root namespace) is the observer, and one stuck on a partitioned server until its pings time
   * out would count its own blindness as the jobs' outage.
   */
  private async steerDriverOff(h: Host): Promise<void> {
    const nc = this.cluster.nc;
    const onHost = () => nc.getServer().startsWith(`${h.ip}:`);
    for (let i = 0; i < 10 && onHost(); i++) {
      const before = nc.getServer();
      await nc.reconnect().catch(() => undefined);
      await waitFor(() => (nc.getServer() !== before && nc.getServer() !== "") || undefined, 3_000, "the driver's reconnect", 50).catch(() => undefined);
    }
  }

  /**
   * Waits until every stream of the cluster has a leader and all its replicas are current, so the
   * next NATS fault takes one server out of three, never two: says how long that took.
   */
  private async caughtUp(): Promise<string> {
    const from = Date.now();
    const behind = async () => {
      const jsm = await jetstreamManager(this.cluster.nc, { timeout: 2_000 });
      const lagging: string[] = [];
      for await (const si of jsm.streams.list()) {
        const c = si.cluster;
        if (!c?.leader || (c.replicas ?? []).some((r) => !r.current || r.offline) || (c.replicas ?? []).length + 1 < si.config.num_replicas)
          lagging.push(si.config.name);
      }
      return lagging;
    };
    let last: string[] = ["(not asked yet)"];
    while (Date.now() - from < NATS_CATCH_UP_MS) {
      last = await behind().catch((err: Error) => [`(listing failed: ${err.message})`]);
      if (!last.length) return `streams current again after ${((Date.now() - from) / 1000).toFixed(1)} s`;
      await sleep(500);
    }
    return `streams NOT current ${NATS_CATCH_UP_MS / 1000} s after: ${last.join(", ")}`;
  }

  /** Runs `fn` after the previous NATS fault ended and its server caught up (waiting at most NATS_LOCK_WAIT_MS). */
  private async withNatsLock(fn: () => Promise<string>): Promise<string> {
    const before = this.natsLock;
    let release!: () => void;
    this.natsLock = new Promise((r) => (release = r));
    const waited =
      (await orTimeout(
        before.then(() => true),
        NATS_LOCK_WAIT_MS,
      )) ?? false;
    try {
      const done = await fn();
      return waited ? done : `${done} (started while the previous NATS fault had not ended within ${NATS_LOCK_WAIT_MS} ms)`;
    } finally {
      release();
    }
  }
}
