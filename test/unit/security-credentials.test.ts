/**
 * Credentials per role and the files that carry them: passwords are random and stored only as bcrypt
 * hashes the password verifies against; context files round-trip in the NATS CLI's format; the
 * connection target takes `--nats` over the context's URL over EDDY_NATS_URL.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { authorizationBlock, generateCredentials } from "../../src/security/nats-authorization.js";
import { readContext, resolveNatsTarget, writeContext } from "../../src/security/context.js";
import { inboxPrefix, rolePermissions, ROLES } from "../../src/security/roles.js";
import { contextPath, reuseSecureSetup, writeSecureSetup } from "../../src/security/secure-setup.js";
import { withCode } from "../helpers/error-code.js";

test("each role gets its own random password, kept in the authorization block only as a bcrypt hash", async () => {
  const creds = generateCredentials("eddy");
  assert.deepEqual(
    creds.map((c) => c.user),
    ROLES.map((r) => `eddy-${r}`),
  );
  assert.equal(new Set(creds.map((c) => c.password)).size, creds.length, "no two passwords alike");
  const block = await authorizationBlock("eddy", creds);
  const hashes = [...block.matchAll(/password: "([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(hashes.length, creds.length);
  for (const [i, c] of creds.entries()) {
    assert.ok(!block.includes(c.password));
    assert.ok(await bcrypt.compare(c.password, hashes[i]!), `${c.role}'s hash verifies its password`);
  }
  assert.match(block, /^authorization \{\n {2}users = \[/);
});

test("only the jobmanager and admin may subscribe to the Dispatcher; client and viewer subscribe to their inbox only", () => {
  for (const role of ROLES) {
    const p = rolePermissions(role, "eddy");
    const subs = p.subscribe.allow;
    const mayServe = subs.includes(">") || subs.includes("eddy.>");
    assert.equal(mayServe, role === "admin" || role === "jobmanager", `${role} may subscribe to eddy.dispatcher.>`);
    if (role === "client" || role === "viewer") assert.deepEqual(subs, [`${inboxPrefix(role, "eddy")}.>`]);
  }
  assert.deepEqual(
    rolePermissions("viewer", "eddy")
      .publish.allow.filter((s) => s.startsWith("eddy."))
      .sort(),
    ["eddy.dispatcher.clusterInfo", "eddy.dispatcher.listJobs", "eddy.dispatcher.requestJob", "eddy.dispatcher.requestJobResult"],
  );
});

test("a context file round-trips in the NATS CLI's format, mode 0600; --nats wins over its URL, which wins over EDDY_NATS_URL", () => {
  const dir = mkdtempSync(join(tmpdir(), "eddy-context-"));
  try {
    const path = join(dir, "client.json");
    writeContext(path, { url: "nats://h:1", user: "eddy-client", password: "pw", inbox_prefix: "_INBOX_eddy_client" });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readContext(path), { url: "nats://h:1", user: "eddy-client", password: "pw", inbox_prefix: "_INBOX_eddy_client" });
    const env = { EDDY_NATS_URL: "nats://env:2", EDDY_CONTEXT: path };
    assert.equal(resolveNatsTarget({}, env).url, "nats://h:1");
    assert.equal(resolveNatsTarget({ nats: "nats://flag:3" }, env).url, "nats://flag:3");
    assert.equal(resolveNatsTarget({}, { EDDY_NATS_URL: "nats://env:2" }).url, "nats://env:2");
    assert.deepEqual(resolveNatsTarget({}, env).auth, { user: "eddy-client", password: "pw", inboxPrefix: "_INBOX_eddy_client" });
    writeFileSync(join(dir, "bad.json"), "{ not json");
    assert.throws(() => readContext(join(dir, "bad.json")), withCode("MalformedRequest", /is not JSON/));
    writeFileSync(join(dir, "wrong.json"), JSON.stringify({ user: 7 }));
    assert.throws(() => readContext(join(dir, "wrong.json")), withCode("MalformedRequest", /user/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a data dir written before a role existed gets that role's user on reuse; the others keep their passwords", async () => {
  const dir = mkdtempSync(join(tmpdir(), "eddy-secure-reuse-"));
  try {
    const setup = await writeSecureSetup(dir, { prefix: "eddy", url: "nats://127.0.0.1:4222" });
    const before = Object.fromEntries(ROLES.map((r) => [r, readContext(setup.contexts[r]).password]));
    rmSync(contextPath(dir, "function"));
    const again = await reuseSecureSetup(dir, "nats://127.0.0.1:5222", "eddy");
    assert.ok(again);
    const fn = readContext(again.contexts.function);
    assert.equal(fn.user, "eddy-function");
    assert.notEqual(fn.password, before.function, "the new role has a new password");
    const block = readFileSync(join(dir, "nats-auth.conf"), "utf8");
    const hashes = new Map([...block.matchAll(/user: "([^"]+)", password: "([^"]+)"/g)].map((m) => [m[1]!, m[2]!]));
    for (const r of ROLES) {
      const c = readContext(again.contexts[r]);
      if (r !== "function") assert.equal(c.password, before[r], `${r} keeps its password`);
      assert.equal(c.url, "nats://127.0.0.1:5222");
      assert.ok(await bcrypt.compare(c.password!, hashes.get(`eddy-${r}`)!), `${r}'s password verifies in the rewritten block`);
    }
    assert.equal(statSync(join(dir, "nats-auth.conf")).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
