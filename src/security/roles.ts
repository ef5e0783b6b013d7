/**
 * Eddy's roles as NATS permissions (docs/security.md): each process and each user holds only the
 * rights its role needs, and the NATS server enforces them on every publish and subscription.
 * Derived from the subjects and JetStream assets Eddy uses (src/rpc/subjects.ts); the integration
 * test `security-roles` tries every right a role must not have.
 */

/** The roles, from most to least powerful. */
export const ROLES = ["admin", "jobmanager", "worker", "function", "client", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** A NATS user's permissions block. */
export interface Permissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
}

/** The inbox prefix of a role: replies to its requests arrive under `<inboxPrefix>.>` only. */
export function inboxPrefix(role: Role, prefix: string): string {
  return `_INBOX_${prefix}_${role}`;
}

/** The Dispatcher methods that only read (the viewer's). */
export const READ_ONLY_DISPATCHER_METHODS = ["listJobs", "requestJob", "requestJobResult", "clusterInfo"] as const;

/** The KV buckets that hold the cluster's HA state (only the JobManager writes them). */
const HA_BUCKETS = ["jobgraphs", "jobresults", "leaders", "leases", "checkpoints"] as const;

/** Every role's permissions under subject prefix `prefix` (the cluster's EDDY_PREFIX). */
export function rolePermissions(role: Role, prefix: string): Permissions {
  const P = prefix;
  const inbox = `${inboxPrefix(role, P)}.>`;
  const dispatcher = `${P}.dispatcher`;
  const obj = (b: string) => `OBJ_${P}_${b}`;
  switch (role) {
    case "admin":
      return { publish: { allow: [">"] }, subscribe: { allow: [">"] } };
    case "jobmanager":
      // The control plane: it creates, reads and deletes every asset of the cluster. Streams of
      // other prefixes and user streams are JetStream API subjects it could name too (stream names
      // cannot be matched by prefix), so its credentials are the cluster's.
      return {
        publish: {
          allow: [
            `${P}.>`,
            "$JS.API.>",
            ...HA_BUCKETS.map((b) => `$KV.${P}_${b}.>`),
            `$O.${P}_state.>`,
            `$O.${P}_bundles.>`,
            "$SRV.>",
            "$JS.ACK.>",
            // Replies to the requests it serves (see the worker's note on allow_responses).
            "_INBOX.>",
            ...ROLES.map((r) => `${inboxPrefix(r, P)}.>`),
          ],
        },
        subscribe: { allow: [`${P}.>`, inbox, "$SRV.>", "$JS.EVENT.ADVISORY.CONSUMER.DELETED.>"] },
      };
    case "worker":
      // The JetStream sink publishes to users' subjects, so a worker may publish anywhere but where
      // it could act as another component, change the cluster's HA state, ship code or change a
      // stream. Its replies go to inboxes, whose subjects end in a random token it learns only from a
      // request it received. allow_responses is not used: nats-server 2.9 then tracks a reply
      // permission for every message delivered to the connection, JetStream deliveries included,
      // and a worker's stream reads run some 70 times slower.
      return {
        publish: {
          allow: [">"],
          deny: [
            `${dispatcher}.>`,
            `${P}.te.>`,
            `${P}.task.>`,
            `${P}.metrics.job.>`,
            `${P}.metrics.cluster`,
            ...HA_BUCKETS.map((b) => `$KV.${P}_${b}.>`),
            `$O.${P}_bundles.>`,
            ...["CREATE", "UPDATE", "DELETE", "PURGE", "MSG.DELETE", "SNAPSHOT", "RESTORE"].map((op) => `$JS.API.STREAM.${op}.>`),
            "$JS.API.STREAM.TEMPLATE.>",
            "$JS.API.CONSUMER.DURABLE.CREATE.>",
            "$JS.API.ACCOUNT.>",
            "$JS.API.META.>",
            "$JS.API.SERVER.>",
            "$SYS.>",
          ],
        },
        subscribe: {
          allow: [`${P}.te.>`, `${P}.task.>`, `${P}.data.>`, `${P}.credit.>`, inbox, "$SRV.>", `$JS.EVENT.ADVISORY.CONSUMER.DELETED.${P}_liveness.*`],
          deny: [`${dispatcher}.>`],
        },
      };
    case "function":
      // A remote actor function (docs/actors.md): it takes the requests on `<prefix>.fn.<type>` and
      // answers the workers, whose inboxes end in a random token it learns only from a request.
      return {
        publish: { allow: [`${inboxPrefix("worker", P)}.>`] },
        subscribe: { allow: [`${P}.fn.>`, inbox] },
      };
    case "client":
      // The Dispatcher API and the bundle store's upload path: no Eddy subject to subscribe to.
      return {
        publish: {
          allow: [
            `${dispatcher}.>`,
            "$JS.API.INFO",
            `$JS.API.STREAM.INFO.${obj("bundles")}`,
            `$JS.API.STREAM.MSG.GET.${obj("bundles")}`,
            `$JS.API.DIRECT.GET.${obj("bundles")}.>`,
            `$O.${P}_bundles.C.>`,
            `$O.${P}_bundles.M.>`,
            "$SRV.PING",
            "$SRV.INFO",
            "$SRV.PING.>",
            "$SRV.INFO.>",
          ],
        },
        subscribe: { allow: [inbox] },
      };
    case "viewer":
      return {
        publish: { allow: [...READ_ONLY_DISPATCHER_METHODS.map((m) => `${dispatcher}.${m}`), "$SRV.PING", "$SRV.INFO", "$SRV.PING.>", "$SRV.INFO.>"] },
        subscribe: { allow: [inbox] },
      };
  }
}
