/** A FIFO of fixed-size growth without `shift()` costs (the input's ready channels, a producer's buffers). */
export class RingQueue<T> {
  private items: Array<T | undefined> = new Array(16);
  private head = 0;
  private count = 0;
  get length(): number {
    return this.count;
  }
  push(v: T): void {
    if (this.count === this.items.length) {
      const next = new Array<T | undefined>(this.items.length * 2);
      for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length];
      this.items = next;
      this.head = 0;
    }
    this.items[(this.head + this.count) % this.items.length] = v;
    this.count++;
  }
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const v = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return v;
  }
}
