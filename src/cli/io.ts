/** Where a command writes: stdout for results, stderr for diagnostics. Replaceable in tests. */
export interface Io {
  /** One line of result output (stdout). */
  out(line: string): void;
  /** One line of diagnostics (stderr). */
  err(line: string): void;
}

/** The process's own stdout and stderr. */
export const processIo: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/** Exit codes of every command (CONTRACT.md). */
export const Exit = {
  Ok: 0,
  /** The job ended FAILED or CANCELED, or the cluster refused the operation. */
  Refused: 1,
  Usage: 2,
  Unreachable: 3,
} as const;
