/**
 * Credentials per role and the nats-server `authorization` block that enforces them: random
 * passwords, stored in the server's config only as bcrypt hashes (nats-server checks bcrypt
 * natively), in the context files in clear (mode 0600).
 */
import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";
import { inboxPrefix, rolePermissions, ROLES, type Role } from "./roles.js";

/** One role's user and password. */
export interface RoleCredential {
  role: Role;
  user: string;
  password: string;
}

/**
 * bcrypt cost of the stored hashes: bcrypt's minimum. A work factor slows the guessing of a
 * password a person chose; these are 192 random bits, beyond guessing at any cost. nats-server
 * compares a hash at every connection (every process, slot thread and reconnect), and the generation
 * sits on `eddy cluster`'s way to ready: at cost 11 (`nats server passwd`'s default) that is about
 * 170 ms per role here, and as much server CPU per connection.
 */
const BCRYPT_COST = 4;

/** The user name of `role` under `prefix`: two clusters sharing a NATS keep their users apart. */
export function roleUser(role: Role, prefix: string): string {
  return `${prefix}-${role}`;
}

/** A fresh random password per role (24 random bytes, base64url). */
export function generateCredentials(prefix: string): RoleCredential[] {
  return ROLES.map((role) => ({ role, user: roleUser(role, prefix), password: randomBytes(24).toString("base64url") }));
}

/** A nats.conf string literal (JSON's escaping is a subset of the config format's). */
const q = (s: string): string => JSON.stringify(s);
const list = (xs: readonly string[]): string => `[${xs.map(q).join(", ")}]`;

/**
 * The `authorization { users = [...] }` block for `creds` under `prefix`, passwords bcrypt-hashed.
 * Included from, or written into, the server's config.
 */
export async function authorizationBlock(prefix: string, creds: readonly RoleCredential[]): Promise<string> {
  const users = await Promise.all(
    creds.map(async (c) => {
      const p = rolePermissions(c.role, prefix);
      const perm = (name: string, r: { allow: string[]; deny?: string[] }) =>
        `${name}: { allow: ${list(r.allow)}${r.deny?.length ? `, deny: ${list(r.deny)}` : ""} }`;
      const hash = await bcrypt.hash(c.password, BCRYPT_COST);
      return [
        `    # role ${c.role}; replies under ${inboxPrefix(c.role, prefix)}.>`,
        `    { user: ${q(c.user)}, password: ${q(hash)}, permissions: {`,
        `        ${perm("publish", p.publish)}`,
        `        ${perm("subscribe", p.subscribe)}`,
        "    } }",
      ].join("\n");
    }),
  );
  return `authorization {\n  users = [\n${users.join("\n")}\n  ]\n}\n`;
}
