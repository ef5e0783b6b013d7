/**
 * The files of a secured cluster, in one directory: `nats-auth.conf` (the `authorization` block, to
 * include from a nats.conf) and `contexts/<role>.json` (one NATS context per role, mode 0600). Written
 * by `eddy secure init` for an operator's NATS and by `eddy cluster` at its first start.
 */
import { existsSync, mkdirSync, writeFileSync, chmodSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { authorizationBlock, generateCredentials, type RoleCredential } from "./nats-authorization.js";
import { inboxPrefix, ROLES, type Role } from "./roles.js";
import { readContext, writeContext, type NatsContext } from "./context.js";

/** TLS files a context names (client certificate and key of its role, the CA). */
export interface ContextTls {
  ca: string;
  cert: string;
  key: string;
}

/** What {@link writeSecureSetup} wrote. */
export interface SecureSetup {
  dir: string;
  authConfPath: string;
  /** Every role's context file. */
  contexts: Record<Role, string>;
  /** The web write token (also in the admin context). */
  webToken: string;
}

/** Where role `role`'s context lives under `dir`. */
export function contextPath(dir: string, role: Role): string {
  return join(dir, "contexts", `${role}.json`);
}

function contexts(dir: string): Record<Role, string> {
  return Object.fromEntries(ROLES.map((r) => [r, contextPath(dir, r)])) as Record<Role, string>;
}

/**
 * Generates credentials per role and writes `dir/nats-auth.conf` and `dir/contexts/*.json` (every
 * file mode 0600). `tls(role)` names the TLS files of a role's context, when TLS is on.
 */
export async function writeSecureSetup(dir: string, opts: { prefix: string; url: string; tls?: (role: Role) => ContextTls }): Promise<SecureSetup> {
  mkdirSync(join(dir, "contexts"), { recursive: true, mode: 0o700 });
  const creds = generateCredentials(opts.prefix);
  const webToken = randomBytes(24).toString("base64url");
  const authConfPath = join(dir, "nats-auth.conf");
  writeFileSync(authConfPath, await authorizationBlock(opts.prefix, creds), { mode: 0o600 });
  chmodSync(authConfPath, 0o600);
  for (const c of creds)
    writeContext(contextPath(dir, c.role), contextOf(c, opts.prefix, opts.url, c.role === "admin" ? webToken : undefined, opts.tls?.(c.role)));
  return { dir, authConfPath, contexts: contexts(dir), webToken };
}

function contextOf(c: RoleCredential, prefix: string, url: string, webToken: string | undefined, tls: ContextTls | undefined): NatsContext {
  return {
    description: `Eddy ${c.role} (prefix ${prefix})`,
    url,
    user: c.user,
    password: c.password,
    inbox_prefix: inboxPrefix(c.role, prefix),
    ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
    ...(webToken ? { eddy_web_token: webToken } : {}),
  };
}

/**
 * The setup already in `dir` (a cluster restarted on its data dir keeps its credentials), with every
 * context's URL set to `url`; undefined when `dir` holds none. A role the setup does not have yet (it
 * was written by an earlier Eddy) gets credentials of its own, and the authorization block is written
 * again with the existing users' passwords unchanged.
 */
export async function reuseSecureSetup(dir: string, url: string, prefix: string): Promise<SecureSetup | undefined> {
  const authConfPath = join(dir, "nats-auth.conf");
  const paths = contexts(dir);
  if (!existsSync(authConfPath) || !existsSync(paths.admin)) return undefined;
  const missing = ROLES.filter((r) => !existsSync(paths[r]));
  if (missing.length > 0) {
    const fresh = new Map(generateCredentials(prefix).map((c) => [c.role, c]));
    const creds: RoleCredential[] = ROLES.map((r) => {
      if (missing.includes(r)) return fresh.get(r)!;
      const ctx = readContext(paths[r]);
      return { role: r, user: ctx.user ?? "", password: ctx.password ?? "" };
    });
    writeFileSync(authConfPath, await authorizationBlock(prefix, creds), { mode: 0o600 });
    for (const c of creds) if (missing.includes(c.role)) writeContext(paths[c.role], contextOf(c, prefix, url, undefined, undefined));
  }
  let webToken = "";
  for (const r of ROLES) {
    const ctx = readContext(paths[r]);
    if (r === "admin") webToken = ctx.eddy_web_token ?? "";
    if (ctx.url !== url) writeContext(paths[r], { ...ctx, url });
  }
  return { dir, authConfPath, contexts: paths, webToken };
}
