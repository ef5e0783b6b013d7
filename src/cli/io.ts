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

/** Exit codes of every command (docs/cli.md). */
export const Exit = {
  Ok: 0,
  /** The job ended FAILED or CANCELED, or the cluster refused the operation. */
  Refused: 1,
  Usage: 2,
  Unreachable: 3,
} as const;

/**
 * Resolves once everything written to `stream` so far has reached the OS, or the stream is gone
 * (its reader closed: EPIPE). A pipe takes 64 KiB at a time; `process.exit` before this would cut
 * the output there. No timeout: a reader that never reads blocks the writer, as with any program.
 */
export function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableEnded || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off("error", done);
      stream.off("close", done);
      resolve();
    };
    stream.once("error", done);
    stream.once("close", done);
    // Writes complete in order: the callback of this empty write runs once every earlier one is out.
    stream.write("", () => done());
  });
}

/** Ends the process with `code` once stdout and stderr are flushed. */
export async function exitWhenFlushed(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
