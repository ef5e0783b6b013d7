/**
 * Bank transfers between account actors (docs/actors.md):
 * `eddy run examples/bank.ts [--parallelism N] -- --input FILE --output DIR [--rate R] [--remote
 * [--remote-timeout MS]]`.
 *
 * Each line of FILE, `{"i", "from", "to", "amount"}`, goes as a transfer to the account actor `from`,
 * which debits itself, writes `[i, from, -amount]` to the egress `applied` and sends a credit to the
 * account `to`, which credits itself and writes `[i, to, amount]`. The egress is an exactly-once file
 * sink in DIR (lines `i account delta`): after any failure every transfer is applied exactly once,
 * so the balances add up to zero and each is its account's credits minus its debits.
 *
 * `--rate R`: at most R transfers a second from the file. `--remote`: the account type is remote,
 * served on `<prefix>.fn.account` by examples/bank-function.ts (a plain NATS client) or anyone else;
 * `--remote-timeout MS` is how long a request may take (default 10 s).
 * Checkpoints every second unless `-D execution.checkpointing.interval` says otherwise.
 */
import { resolve } from "node:path";
import { jobArg, requireJobArg, StreamExecutionEnvironment, type JobMain } from "eddy";
import { ActorApplicationBuilder, defineActor, remoteActor } from "eddy/actors";
import { accountStep, parseTransfer, type AccountMessage, type AccountState, type Applied } from "./bank/account.js";

const USAGE = "eddy run examples/bank.ts [--parallelism N] -- --input FILE --output DIR [--rate R] [--remote [--remote-timeout MS]]";

export const account = defineActor<AccountState, AccountMessage>({
  type: "account",
  initialState: { balance: 0 },
  onMessage(ctx, message) {
    const step = accountStep(Number(ctx.self.id), ctx.state.balance, message);
    ctx.state.balance = step.balance;
    if (step.credit) ctx.send({ type: "account", id: String(step.credit.to) }, step.credit.message);
    ctx.egress("applied", step.applied);
  },
});

function intArg(args: readonly string[], flag: string, dflt: number): number {
  const v = jobArg(args, flag);
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got "${v}"\nusage: ${USAGE}`);
  return n;
}

const bank: JobMain = (args, ctx) => {
  const input = resolve(requireJobArg(args, "--input", USAGE));
  const output = resolve(requireJobArg(args, "--output", USAGE));
  const rate = intArg(args, "--rate", 0);
  const timeoutMs = intArg(args, "--remote-timeout", 10_000);
  const env = new StreamExecutionEnvironment("Bank", { parallelism: ctx.parallelism ?? 1, checkpointing: { intervalMs: 1_000 } });
  const transfers = env
    .readTextFile(input, { ratePerSecond: rate })
    .uid("transfers")
    .filter((line) => line.trim() !== "")
    .map(parseTransfer);
  const app = new ActorApplicationBuilder("Accounts")
    .withIngress(transfers, (t) => ({ to: { type: "account", id: String(t.from) }, body: { kind: "transfer", i: t.i, to: t.to, amount: t.amount } }))
    .withActor(args.includes("--remote") ? remoteActor("account") : account)
    .withEgress("applied")
    .withRemoteSettings({ timeoutMs: Math.max(1, timeoutMs) })
    .build();
  app.egress<Applied>("applied").writeAsText(output).uid("applied");
  return env.build();
};

export default bank;
