/** The server config eddy cluster writes: `sync_interval: always` only where the server knows it (2.10+). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterServerConf } from "../../src/cluster/nats-config.js";
import { versionAtLeast } from "../../src/security/nats-posture.js";

test("sync_interval: always is asked of nats-server 2.10 and later, never of 2.9 (which refuses the field)", () => {
  const modern = clusterServerConf({ version: "2.10.0" });
  assert.match(modern, /^jetstream \{\n.*\n {2}sync_interval: always$/m);
  for (const v of ["2.9.10", "2.9.25", undefined]) assert.doesNotMatch(clusterServerConf({ version: v }), /sync_interval/);
  assert.ok(versionAtLeast("2.12.1", 2, 10) && versionAtLeast("3.0.0", 2, 10) && !versionAtLeast("2.9.99", 2, 10));
});

test("a secured cluster's config includes its authorization block by a path relative to the config", () => {
  assert.match(clusterServerConf({ version: "2.9.10", authInclude: "nats-auth.conf" }), /\ninclude "nats-auth\.conf"\n$/);
});
