/**
 * The bank's account type as a remote function (docs/actors.md, "Remote actors"): a plain NATS client,
 * no Eddy SDK, that serves `<prefix>.fn.account` in the queue group `account` (start several to
 * scale). `node dist/examples/bank-function.js [--server URL] [--prefix P] [--user U --password P]`
 * (defaults: EDDY_NATS_URL or nats://127.0.0.1:4222, EDDY_PREFIX or eddy). It answers each request
 * from the request alone, as the protocol asks: a request repeated after a failure gets the same answer.
 */
import { pathToFileURL } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { accountStep, type AccountMessage } from "./bank/account.js";

interface Request {
  address: { type: string; id: string };
  state: { balance: number } | null;
  messages: Array<{ from: unknown; body: AccountMessage }>;
}

/** The reply to one request: every message applied in order to the state the request carries. */
export function answer(req: Request): unknown {
  const account = Number(req.address.id);
  let balance = req.state?.balance ?? 0;
  const send: unknown[] = [];
  const egress: unknown[] = [];
  for (const m of req.messages) {
    const step = accountStep(account, balance, m.body);
    balance = step.balance;
    if (step.credit) send.push({ to: { type: "account", id: String(step.credit.to) }, body: step.credit.message });
    egress.push({ name: "applied", value: step.applied });
  }
  return { state: { balance }, send, egress };
}

/** Serves the account type on `nc` until the connection closes; counts the requests it answered. */
export function serveAccounts(nc: NatsConnection, prefix: string): { requests: number } {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const stats = { requests: 0 };
  nc.subscribe(`${prefix}.fn.account`, {
    queue: "account",
    callback: (err, msg) => {
      if (err) return;
      stats.requests++;
      let reply: unknown;
      try {
        reply = answer(JSON.parse(dec.decode(msg.data)) as Request);
      } catch (e) {
        reply = { error: { code: "BadRequest", message: (e as Error).message } };
      }
      msg.respond(enc.encode(JSON.stringify(reply)));
    },
  });
  return stats;
}

async function main(): Promise<void> {
  const arg = (flag: string) => {
    const i = process.argv.indexOf(flag);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const user = arg("--user");
  const pass = arg("--password");
  const nc = await connect({
    servers: arg("--server") ?? process.env.EDDY_NATS_URL ?? "nats://127.0.0.1:4222",
    ...(user !== undefined ? { user, pass: pass ?? "" } : {}),
  });
  const prefix = arg("--prefix") ?? process.env.EDDY_PREFIX ?? "eddy";
  serveAccounts(nc, prefix);
  console.log(`serving ${prefix}.fn.account`);
  const stop = () => void nc.drain();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await nc.closed();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
