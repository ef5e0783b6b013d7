/**
 * The nats-server config `eddy cluster` writes into its data dir: Eddy's `nats.conf`, plus what the
 * server running it supports: `sync_interval: always` on nats-server 2.10+ (JetStream writes reach
 * the disk before they are acknowledged; 2.9 refuses the setting and fsyncs every 60 s), and the
 * secured cluster's authorization block.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { versionAtLeast } from "../security/nats-posture.js";
import { natsConfPath } from "./paths.js";

/** The version a nats-server binary reports (`2.9.10`), or undefined when it does not say. */
export function natsServerVersion(binary: string): string | undefined {
  const r = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 5_000 });
  return /v?(\d+\.\d+\.\d+)/.exec(`${r.stdout ?? ""}${r.stderr ?? ""}`)?.[1];
}

/** The config text for a server of `version`, including `authInclude` (a path relative to the config) when given. */
export function clusterServerConf(opts: { version: string | undefined; authInclude?: string }): string {
  let text = readFileSync(natsConfPath(), "utf8");
  if (opts.version && versionAtLeast(opts.version, 2, 10)) {
    text = text.replace(
      /^jetstream \{$/m,
      "jetstream {\n  # Every write reaches the disk before it is acknowledged (nats-server 2.10+).\n  sync_interval: always",
    );
  }
  if (opts.authInclude) text += `\n# Credentials per role (docs/security.md).\ninclude "${opts.authInclude}"\n`;
  return text;
}
