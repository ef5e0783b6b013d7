/**
 * Bank transfers between account actors (docs/actors.md):
 * `eddy run examples/bank.ts [--parallelism N] -- --input FILE --output DIR [--rate R] [--remote]`.
 *
 * Each line of FILE, `{"i", "from", "to", "amount"}`, goes as a transfer to the account actor `from`,
 * which debits itself, writes `[i, from, -amount]` to the egress `applied` and sends a credit to the
 * account `to`, which credits itself and writes `[i, to, amount]`. The egress is an exactly-once file
 * sink in DIR (lines `i account delta`): after any failure every transfer is applied exactly once,
 * so the balances add up to zero and each is its account's credits minus its debits.
 *
 * `--rate R`: at most R transfers a second from the file. `--remote`: the account type is remote,
 * served on `<prefix>.fn.account` by examples/bank-function.ts (a plain NATS client) or anyone else.
 * Checkpoints every second unless `-D execution.checkpointing.interval` says otherwise.
 */
import { resolve } from "node:path";
import { jobArg, requireJobArg, StreamExecutionEnvironment, type JobMain } from "eddy";
import { ActorApplicationBuilder, defineActor, remoteActor } from "eddy/actors";
import { accountStep, parseTransfer, type AccountMessage, type AccountState, type Applied } from "./bank/account.js";

const USAGE = "eddy run examples/bank.ts [--parallelism N] -- --input FILE --output DIR [--rate R] [--remote]";

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

const bank: JobMain = (args, ctx) => {
  const input = resolve(requireJobArg(args, "--input", USAGE));
  const output = resolve(requireJobArg(args, "--output", USAGE));
  const rateArg = jobArg(args, "--rate");
  const rate = rateArg === undefined ? 0 : Number(rateArg);
  if (!Number.isSafeInteger(rate) || rate < 0) throw new Error(`--rate must be a non-negative integer, got "${rateArg}"\nusage: ${USAGE}`);
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
    .build();
  app.egress<Applied>("applied").writeAsText(output).uid("applied");
  return env.build();
};

export default bank;
