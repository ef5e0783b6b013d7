import { randomFillSync } from "node:crypto";

/** `n` random bytes, filled in 64 KiB blocks (randomFillSync refuses more than 2^16 at once on some builds). */
export function randomBytesOf(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) randomFillSync(b, off, Math.min(65536, n - off));
  return b;
}
