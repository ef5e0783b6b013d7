/**
 * The KV lease leader election against a real nats-server: one leader among contenders, a prompt
 * handover when the leader stops, a standby that sleeps until a held lease can lapse, a leader that cannot renew stepping down before anyone else can
 * win, an immediate step-down when the lease was taken over, the bucket's max_age as the lease, and
 * leader retrieval (watch and poll).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { connectNats } from "../../src/rpc/nats.js";
import { silentLogger } from "../../src/core/logger.js";
import { waitFor } from "../../src/core/time.js";
import { encode } from "../../src/codec/codec.js";
import { defaultLeaseMs, LeaseLeaderElection, type LeaseHolder } from "../../src/ha/lease-leader-election.js";
import { LeaderPublisher, LeaderRetrieval, type LeaderInfo } from "../../src/ha/leader-retrieval.js";
import { PublishedLeaderGuard } from "../../src/ha/published-leader-guard.js";
import { getValue, openBucket } from "../../src/ha/kv.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";

let nats: TestNats;
const conns: NatsConnection[] = [];
const elections: LeaseLeaderElection[] = [];
const log = silentLogger();
let n = 0;

before(async () => {
  nats = await startTestNats({ jetstream: true });
});
after(async () => {
  await Promise.all(elections.map((e) => e.stop().catch(() => undefined)));
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  await nats.stop();
});

/** A contender on its own connection, recording its grants and revocations with their times. */
async function contender(bucket: string, id: string, leaseMs: number) {
  const nc = await connectNats(nats.url, id);
  conns.push(nc);
  const election = await LeaseLeaderElection.open(nc, bucket, "jobmanager", id, log, { leaseMs });
  elections.push(election);
  const events: Array<{ kind: "grant" | "revoke"; at: number; session?: string; reason?: string }> = [];
  election.start({
    grant: (h: LeaseHolder) => void events.push({ kind: "grant", at: performance.now(), session: h.sessionId }),
    revoke: (reason: string) => void events.push({ kind: "revoke", at: performance.now(), reason }),
  });
  return { nc, election, events, id };
}

function bucketName(): string {
  return `leases_t${++n}_${Date.now().toString(36)}`;
}

test("exactly one of three contenders leads, and a stopped leader hands over within the poll interval", async () => {
  const bucket = bucketName();
  // A lease far longer than a handover: taking over only once it lapsed would take 30 s, which no
  // loaded machine confuses with a handover on release.
  const leaseMs = 30_000;
  const cs = await Promise.all(["a", "b", "c"].map((id) => contender(bucket, id, leaseMs)));
  const leader = await waitFor(async () => cs.find((c) => c.election.leading), 5_000, "a leader");
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(cs.filter((c) => c.election.leading).length, 1, "one leader only");
  assert.equal(
    cs.reduce((k, c) => k + c.events.filter((e) => e.kind === "grant").length, 0),
    1,
    "one grant so far",
  );
  const stoppedAt = performance.now();
  await leader.election.stop();
  const next = await waitFor(async () => cs.find((c) => c !== leader && c.election.leading), leaseMs / 2, "a new leader");
  const grant = next.events.find((e) => e.kind === "grant")!;
  assert.ok(grant.at - stoppedAt < leaseMs / 2, `handed over in ${Math.round(grant.at - stoppedAt)} ms, without waiting for the lease to expire`);
  assert.notEqual(grant.session, leader.events[0]!.session, "a new term has a new session id");
  assert.deepEqual(
    leader.events.map((e) => e.kind),
    ["grant", "revoke"],
  );
});

test("a standby sleeps until the held lease can have lapsed instead of polling, and takes over a crashed leader's", async () => {
  const bucket = bucketName();
  const leaseMs = 2_500;
  const a = await contender(bucket, "a", leaseMs);
  await waitFor(() => a.election.leading || undefined, 5_000, "a leading");
  const b = await contender(bucket, "b", leaseMs);
  const kv = (b.election as unknown as { kv: { create: (...args: unknown[]) => Promise<number> } }).kv;
  let creates = 0;
  const create = kv.create.bind(kv);
  kv.create = (...args: unknown[]) => (creates++, create(...args));
  await new Promise((r) => setTimeout(r, 3_000)); // a holds: b may not win, nor poll every 250 ms
  assert.equal(b.events.length, 0);
  await a.nc.close(); // a crashes: its key stays until it ages out
  await waitFor(() => b.election.leading || undefined, leaseMs + 5_000, "b taking over the lapsed lease");
  // Polling every 250 ms would have tried about 20 times; sleeping until the lapse, a few.
  assert.ok(creates <= 10, `${creates} acquisition attempts`);
});

test("a leader that cannot renew steps down before another contender can win", async () => {
  const bucket = bucketName();
  const leaseMs = 2_000;
  const a = await contender(bucket, "a", leaseMs);
  await waitFor(async () => a.election.leading || undefined, 5_000, "a leads");
  const b = await contender(bucket, "b", leaseMs);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(b.election.leading, false, "b stands by");
  // a is cut off from NATS: its renewals fail, it must give up by itself.
  await a.nc.close();
  await waitFor(async () => b.election.leading || undefined, 10_000, "b leads");
  const revoked = a.events.find((e) => e.kind === "revoke");
  const granted = b.events.find((e) => e.kind === "grant")!;
  assert.ok(revoked, "a was revoked");
  assert.ok(revoked.at < granted.at, `a stepped down ${Math.round(granted.at - revoked.at)} ms before b won`);
  assert.equal(a.election.leading, false);
});

test("a leader whose lease was overwritten steps down at its next renewal", async () => {
  const bucket = bucketName();
  const a = await contender(bucket, "a", 3_000);
  await waitFor(async () => a.election.leading || undefined, 5_000, "a leads");
  const kv = await new Kvm(a.nc).open(bucket);
  await kv.put("jobmanager", encode({ id: "intruder", sessionId: "x", pid: 0, host: "elsewhere", since: Date.now() }));
  await waitFor(async () => (a.election.leading ? undefined : true), 3_000, "a steps down");
  const revoked = a.events.find((e) => e.kind === "revoke")!;
  // Refused and found taken over at its renewal, not run out of time at its deadline.
  assert.match(revoked.reason ?? "", /taken over/, "stepped down at the renewal the intruder's write refused");
});

test("a leader whose own earlier renewal landed unseen (its revision moved on) keeps leading", async () => {
  // A renewal whose answer is lost with a NATS server leaves the leader holding an old revision; its
  // next renewal is refused for a wrong revision although the key still holds its own session.
  const bucket = bucketName();
  const a = await contender(bucket, "a", 3_000);
  await waitFor(async () => a.election.leading || undefined, 5_000, "a leads");
  const kv = await new Kvm(a.nc).open(bucket);
  const entry = (await kv.get("jobmanager"))!;
  const moved = await kv.put("jobmanager", entry.value);
  await new Promise((r) => setTimeout(r, 3 * a.election.timing.renewMs));
  assert.equal(a.election.leading, true, "still leading");
  assert.deepEqual(
    a.events.map((e) => e.kind),
    ["grant"],
    "no revocation",
  );
  const now = (await kv.get("jobmanager"))!;
  assert.ok(now.revision > moved, `renewed from the revision it did not see (${moved} → ${now.revision})`);
});

test("the lease duration is the bucket's max_age, whatever a later contender asks for", async () => {
  const bucket = bucketName();
  const a = await contender(bucket, "a", 2_500);
  const b = await contender(bucket, "b", 9_000);
  assert.equal(a.election.timing.leaseMs, 2_500);
  assert.equal(b.election.timing.leaseMs, 2_500, "the existing bucket's max_age wins");
  assert.equal(b.election.timing.renewMs, Math.floor(2_500 / 5));
});

test("leader retrieval follows published leaders, and one its watch misses is still seen within the poll interval", async () => {
  const nc = await connectNats(nats.url, "retrieval");
  conns.push(nc);
  const bucket = `leaders-${n++}`;
  const publisher = await LeaderPublisher.open(nc, bucket);
  const first = LeaderPublisher.info("jm-a");
  await publisher.publish("resourcemanager", first);
  const retrieval = await LeaderRetrieval.open(nc, bucket, "resourcemanager", { pollMs: 1_000 });
  try {
    assert.equal(retrieval.leader?.sessionId, first.sessionId);
    const seen: Array<string | undefined> = [];
    retrieval.onChange((l) => seen.push(l?.sessionId));
    const second = LeaderPublisher.info("jm-b");
    await publisher.publish("resourcemanager", second);
    await waitFor(() => retrieval.leader?.sessionId === second.sessionId || undefined, 5_000, "the watch delivering the new leader");
    // A watch that no longer delivers (its consumer lost with a NATS server): the poll still follows.
    (retrieval as unknown as { iter: { stop(): void } }).iter.stop();
    const third = LeaderPublisher.info("jm-c");
    await publisher.publish("resourcemanager", third);
    await waitFor(() => retrieval.leader?.sessionId === third.sessionId || undefined, 5_000, "the poll finding the new leader");
    assert.deepEqual(seen, [second.sessionId, third.sessionId], "each leader once, in order");
  } finally {
    retrieval.stop();
  }
});

test("a former leader's late write over the published leader is written over again while the leader leads, and left once it does not", async () => {
  const nc = await connectNats(nats.url, "guard");
  conns.push(nc);
  const bucket = `leaders-${n++}`;
  const publisher = await LeaderPublisher.open(nc, bucket);
  const kv = await openBucket(nc, bucket);
  const published = async () => (await getValue<LeaderInfo>(kv, "resourcemanager"))?.value.id;
  const current = LeaderPublisher.info("jm-current");
  await publisher.publish("resourcemanager", current);
  let leads = true;
  let judged = 0;
  const guard = PublishedLeaderGuard.start(nc, bucket, publisher, "resourcemanager", current, () => (judged++, leads), log);
  try {
    await waitFor(async () => (await published()) === "jm-current" || undefined, 5_000, "the leader published");
    // The put of a leader whose term ended, landing after the current leader's.
    await publisher.publish("resourcemanager", LeaderPublisher.info("jm-former"));
    await waitFor(async () => (await published()) === "jm-current" || undefined, 10_000, "the current leader published again");
    leads = false;
    const before = judged;
    await publisher.publish("resourcemanager", LeaderPublisher.info("jm-next"));
    await waitFor(() => judged > before || undefined, 10_000, "the guard judging the next leader's write");
    assert.equal(await published(), "jm-next", "a guard whose term ended leaves the next leader's info");
  } finally {
    guard.stop();
  }
});

test("the default lease is 6 s on one NATS server and 15 s with replicated buckets; EDDY_LEASE_MS wins over both", () => {
  const saved = process.env.EDDY_LEASE_MS;
  try {
    delete process.env.EDDY_LEASE_MS;
    assert.equal(defaultLeaseMs(1), 6_000);
    assert.equal(defaultLeaseMs(3), 15_000, "outlasts a replicated stream's leader election after a server's loss");
    process.env.EDDY_LEASE_MS = "4000";
    assert.equal(defaultLeaseMs(3), 4_000);
  } finally {
    if (saved === undefined) delete process.env.EDDY_LEASE_MS;
    else process.env.EDDY_LEASE_MS = saved;
  }
});
