/**
 * The bank's account actor: its messages, its state, and what it does with them, written once as a
 * pure function so that the local actor (examples/bank.ts) and the remote function
 * (examples/bank-function.ts) cannot disagree.
 */

/** A line of the input file. */
export interface Transfer {
  i: number;
  from: number;
  to: number;
  amount: number;
}

/** What an account receives: a transfer to debit (from the input), or a credit (from another account). */
export type AccountMessage = { kind: "transfer"; i: number; to: number; amount: number } | { kind: "credit"; i: number; amount: number };

export interface AccountState {
  balance: number;
}

/** One line of the egress `applied`: transfer, account, change of balance. */
export type Applied = [i: number, account: number, delta: number];

/** What handling one message does: the new balance, the credit to send (if any), the egress record. */
export interface AccountStep {
  balance: number;
  credit?: { to: number; message: AccountMessage };
  applied: Applied;
}

export function accountStep(account: number, balance: number, m: AccountMessage): AccountStep {
  if (m.kind === "transfer")
    return { balance: balance - m.amount, credit: { to: m.to, message: { kind: "credit", i: m.i, amount: m.amount } }, applied: [m.i, account, -m.amount] };
  return { balance: balance + m.amount, applied: [m.i, account, m.amount] };
}

/** Reads and checks one input line; a bad line fails the job naming what is wrong. */
export function parseTransfer(line: string): Transfer {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new Error(`a line of the input is not JSON (${(err as Error).message}): ${line.slice(0, 200)}`);
  }
  const t = v as Record<string, unknown>;
  for (const k of ["i", "from", "to", "amount"]) {
    if (!Number.isSafeInteger(t?.[k])) throw new Error(`a transfer's "${k}" must be an integer: ${line.slice(0, 200)}`);
  }
  if ((t.amount as number) <= 0) throw new Error(`a transfer's amount must be positive: ${line.slice(0, 200)}`);
  return { i: t.i as number, from: t.from as number, to: t.to as number, amount: t.amount as number };
}
