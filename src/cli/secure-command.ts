/**
 * `eddy secure init DIR [--nats-url URL] [--tls]`: credentials per role for a cluster whose NATS the
 * operator runs. Writes `DIR/nats-auth.conf` (the authorization block to include from nats.conf),
 * `DIR/contexts/<role>.json` and, with `--tls`, a CA, a server certificate and a client certificate
 * per role under `DIR/tls/` with `DIR/nats-tls.conf` (the `tls {}` block, `verify: true`).
 */
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_NATS_URL, resolvePrefix } from "../core/config.js";
import { toEddyError } from "../core/errors.js";
import { writeSecureSetup } from "../security/secure-setup.js";
import { ROLES } from "../security/roles.js";
import { defaultServerNames, natsTlsBlock, writeTlsMaterial } from "../security/tls-material.js";
import type { ParsedArgs } from "./args.js";
import { Exit, type Io } from "./io.js";

/** Runs `eddy secure init`. */
export async function secureCommand(args: ParsedArgs, io: Io): Promise<number> {
  const dir = resolve(args.positionals[1]!);
  const url = (args.flags["nats-url"] as string | undefined) ?? DEFAULT_NATS_URL;
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    io.err(`eddy secure init: --nats-url ${url} is not a URL`);
    return Exit.Usage;
  }
  // Credentials are never replaced behind an operator's back: every context in use would stop working.
  if (existsSync(resolve(dir, "nats-auth.conf"))) {
    io.err(`eddy secure init: ${dir} already holds credentials (nats-auth.conf); remove it first to make new ones`);
    return Exit.Refused;
  }
  try {
    const tls = args.flags.tls
      ? writeTlsMaterial(dir, { clients: [...ROLES], serverNames: [...new Set([...(host ? [host] : []), ...defaultServerNames()])] })
      : undefined;
    const setup = await writeSecureSetup(dir, {
      prefix: resolvePrefix(),
      url,
      ...(tls ? { tls: (role) => ({ ca: tls.ca, cert: tls.clients[role]!.cert, key: tls.clients[role]!.key }) } : {}),
    });
    const lines = [`wrote ${setup.authConfPath}`, ...ROLES.map((r) => `wrote ${setup.contexts[r]}`)];
    if (tls) {
      const tlsConf = resolve(dir, "nats-tls.conf");
      writeFileSync(tlsConf, natsTlsBlock(tls), { mode: 0o644 });
      lines.push(`wrote ${tls.dir}/ (CA, server certificate, a client certificate per role)`, `wrote ${tlsConf}`);
    }
    lines.push(
      "",
      `Copy ${tls ? "nats-auth.conf and nats-tls.conf" : "nats-auth.conf"} beside the nats-server's config (it resolves an include`,
      "relative to the including file), add to that config, and restart the server:",
      '  include "nats-auth.conf"',
      ...(tls ? ['  include "nats-tls.conf"'] : []),
      "Then run the JobManagers with --context contexts/jobmanager.json, the TaskExecutors with",
      "contexts/worker.json, and give users client.json (submit) or viewer.json (read only).",
      "admin.json can do everything and holds the dashboard's write token: keep it to operators.",
    );
    for (const l of lines) io.out(l);
    return Exit.Ok;
  } catch (err) {
    const e = toEddyError(err);
    io.err(`error ${e.code}: ${e.message}`);
    return Exit.Refused;
  }
}
