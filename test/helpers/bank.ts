/**
 * The bank example's input and the checks of its output (examples/bank.ts), and the answer of the
 * actor patterns fixture: transfers from a seeded
 * generator, and the committed `applied` lines read back as exactly-once facts.
 */
import { writeFileSync } from "node:fs";
import assert from "node:assert/strict";
import type { Transfer } from "../../examples/bank/account.js";
import { lcg } from "./stream-env.js";

/** `count` transfers between `accounts` accounts (ids 0..accounts-1), amounts 1..100, seeded. */
export function transfers(count: number, accounts: number, seed = 7): Transfer[] {
  const rnd = lcg(seed);
  return Array.from({ length: count }, (_, i) => {
    const from = Math.floor(rnd() * accounts);
    const to = Math.floor(rnd() * accounts);
    return { i, from, to, amount: 1 + Math.floor(rnd() * 100) };
  });
}

/** Writes transfers as the example's JSON-lines input. */
export function writeTransfers(path: string, ts: readonly Transfer[]): void {
  writeFileSync(path, `${ts.map((t) => JSON.stringify(t)).join("\n")}\n`);
}

/**
 * Checks the egress lines `i account delta`: each transfer's debit and credit appear exactly once,
 * so the balances are exact; returns the balances.
 */
export function checkApplied(lines: readonly string[], ts: readonly Transfer[]): Map<number, number> {
  const seen = new Set<string>();
  const balances = new Map<number, number>();
  for (const line of lines) {
    const [i, account, delta] = line.split(" ").map(Number) as [number, number, number];
    const t = ts[i];
    assert.ok(t, `line for an unknown transfer: ${line}`);
    const side = delta < 0 ? "debit" : "credit";
    const key = `${i} ${side}`;
    assert.ok(!seen.has(key), `the ${side} of transfer ${i} applied twice`);
    seen.add(key);
    assert.equal(account, side === "debit" ? t.from : t.to, `account of the ${side} of transfer ${i}`);
    assert.equal(Math.abs(delta), t.amount, `amount of the ${side} of transfer ${i}`);
    balances.set(account, (balances.get(account) ?? 0) + delta);
  }
  assert.equal(seen.size, ts.length * 2, `every transfer debited and credited once (${seen.size} of ${ts.length * 2} lines)`);
  const want = new Map<number, number>();
  for (const t of ts) {
    want.set(t.from, (want.get(t.from) ?? 0) - t.amount);
    want.set(t.to, (want.get(t.to) ?? 0) + t.amount);
  }
  assert.deepEqual(new Map([...balances].sort((a, b) => a[0] - b[0])), new Map([...want].sort((a, b) => a[0] - b[0])));
  return balances;
}

/** The lines of test/fixtures/actor-patterns-job.ts when every message is applied exactly once. */
export function expectedPatterns(chains: number, hops: number, delayed: number): string[] {
  const out: string[] = [];
  for (let c = 0; c < chains; c++) {
    out.push(`self ${c} ${hops + 1}`);
    for (let n = 0; n <= hops; n++) out.push(`hop ${c} ${n} ${n % 2 === 0 ? "ping" : "pong"}`);
    for (let k = 1; k <= delayed; k++) out.push(`wake ${c} ${k}`);
    out.push(`slept ${c} ${delayed}`);
  }
  return out.sort();
}
