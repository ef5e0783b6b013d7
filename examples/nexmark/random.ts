/**
 * The per-event random numbers of the generator: like Nexmark's `new Random(eventId)`, every event
 * draws from its own generator seeded by (seed, event number), so any subtask can make any event
 * without the ones before it. A 32-bit mix of the seed pair, then mulberry32 (small and fast; the
 * generator needs variety, not statistical strength).
 */
export class EventRandom {
  private s: number;

  constructor(seed: number, event: number) {
    // The event number may exceed 32 bits: fold both halves in.
    const hi = Math.floor(event / 0x1_0000_0000);
    let h = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ (event >>> 0);
    h = Math.imul(h ^ (h >>> 16), 0xc2b2ae35) ^ hi;
    h = Math.imul(h ^ (h >>> 13), 0x27d4eb2d);
    this.s = (h ^ (h >>> 15)) >>> 0;
  }

  /** Uniform in [0, 1). */
  nextDouble(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.nextDouble() * n);
  }

  /** `len` lowercase letters. */
  nextString(len: number): string {
    let s = "";
    for (let i = 0; i < len; i++) s += String.fromCharCode(97 + this.nextInt(26));
    return s;
  }
}
