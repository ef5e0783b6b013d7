/** Where Eddy's own files live on disk: the package root, its launcher and its nats.conf. */
import { join } from "node:path";
import { packageRoot } from "../core/package.js";

export { packageRoot, packageVersion } from "../core/package.js";

/** The `eddy` launcher script (`bin/eddy.js`). */
export function eddyBin(): string {
  return join(packageRoot(), "bin", "eddy.js");
}

/** The repository's `nats.conf`. */
export function natsConfPath(): string {
  return join(packageRoot(), "nats.conf");
}

/** The repository's three-server cluster template, `nats-cluster.conf` (see its header). */
export function natsClusterConfPath(): string {
  return join(packageRoot(), "nats-cluster.conf");
}
