/**
 * The batch of records a producer is filling (a subpartition's buffer, a chain handoff's batch),
 * allocated with its first record at the size of the batch before it, at most the batch's limit:
 * grown by `push`, a batch of thousands of records is reallocated and copied about ten times as it
 * grows, while one finished early (a flush, the buffer timeout) with few records needs little room.
 */

/** The array of a batch without records yet (never written: the first record allocates one). */
const NO_RECORDS: unknown[] = [];
/** Room for records of a new batch at least (it grows past it as an array does). */
const MIN_ROOM = 16;

export class RecordBatch {
  private records: unknown[] = NO_RECORDS;
  private count = 0;
  /** Records of the last batch taken. */
  private last = 0;

  /** Records in the batch. */
  get length(): number {
    return this.count;
  }

  /** Appends `record` to a batch of at most `limit` records (hot path); returns the batch's length. */
  add(record: unknown, limit: number): number {
    const n = this.count;
    if (n === 0) this.records = new Array(Math.min(limit, Math.max(MIN_ROOM, this.last)));
    this.records[n] = record;
    return (this.count = n + 1);
  }

  /** The batch's records, exactly (an array of its length); the next record starts a new batch. */
  take(): unknown[] {
    const n = this.count;
    const records = n === 0 ? [] : this.records;
    if (records.length !== n) records.length = n;
    this.records = NO_RECORDS;
    this.last = n;
    this.count = 0;
    return records;
  }

  /** Drops the batch's records. */
  clear(): void {
    this.records = NO_RECORDS;
    this.count = 0;
  }
}
