/**
 * A small argument parser for the `eddy` command line: one command, its flags (`--name value`,
 * `--name=value`, boolean switches; a one-letter flag is short: `-X value` or `-Xvalue`, as Flink's
 * `-D key=value`), positionals, and everything after `--` kept apart (job args).
 */

/** A wrong command line: the caller prints the usage and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
  /** The command the error is about (its usage is shown), if known. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/**
 * How one flag is read. A flag whose name is one letter is a short flag, given as `-X VALUE` or
 * `-XVALUE` (never `--X`); the others are long flags (`--name VALUE`, `--name=VALUE`).
 */
export interface FlagSpec {
  /** `string`: any value; `int`: a whole number within min..max; `boolean`: a switch without value. */
  type: "string" | "int" | "boolean";
  /** For `int`: smallest value allowed (default 0). */
  min?: number;
  /** For `int`: largest value allowed. */
  max?: number;
  /** For `string`: the values allowed. */
  choices?: readonly string[];
  /** Placeholder in the usage text (`N`, `URL`...). */
  value?: string;
  /** One line of help. */
  help: string;
  /** For `string`: may be given many times; the values are kept in order (a `string[]`). */
  repeatable?: boolean;
}

/** One positional parameter of a command. */
export interface PositionalSpec {
  name: string;
  required: boolean;
  /** Names a file that must exist (checked by main before the command runs; else a usage error). */
  file?: boolean;
  /** The values allowed, if not all (else a usage error naming `what`). */
  accepts?: { what: string; test(value: string): boolean };
}

/** One command of the CLI. */
export interface CommandSpec {
  name: string;
  /** One line shown in the overall usage. */
  summary: string;
  /** Positional parameters, in order. */
  positionals: readonly PositionalSpec[];
  flags: Readonly<Record<string, FlagSpec>>;
  /** Whether arguments after `--` are accepted (passed through untouched). */
  passThrough?: boolean;
  /** Flags that exclude each other. */
  exclusive?: ReadonlyArray<readonly string[]>;
}

/** Flag values after parsing: strings, numbers for `int`, `true` for switches, a `string[]` for a repeatable flag. */
export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

/** A parsed command line. */
export interface ParsedArgs {
  command: string;
  positionals: string[];
  flags: FlagValues;
  /** Everything after `--` (only for commands with `passThrough`). */
  rest: string[];
  /** `--help` or `-h` was given. */
  help: boolean;
}

/**
 * Parses `argv` (without node and script) against the command table. Throws {@link UsageError}
 * on an unknown command or flag, a missing or malformed value, a missing or extra positional.
 * `eddy help [CMD]` and `--help`/`-h` anywhere before `--` set `help`.
 */
export function parseArgs(argv: readonly string[], commands: readonly CommandSpec[]): ParsedArgs {
  if (argv.length === 0) throw new UsageError("no command given");
  const [first, ...tail] = argv as [string, ...string[]];
  if (first === "--help" || first === "-h" || first === "help") {
    const about = first === "help" ? tail[0] : undefined;
    if (about !== undefined && !commands.some((c) => c.name === about)) throw new UsageError(`unknown command '${about}'`);
    return { command: about ?? "", positionals: [], flags: {}, rest: [], help: true };
  }
  if (first === "--version" || first === "-V") return { command: "version", positionals: [], flags: {}, rest: [], help: false };
  const spec = commands.find((c) => c.name === first);
  if (!spec) throw new UsageError(first.startsWith("-") ? `expected a command before '${first}'` : `unknown command '${first}'`);
  const name = spec.name;

  const flags: FlagValues = {};
  const positionals: string[] = [];
  let rest: string[] = [];
  let help = false;
  for (let i = 0; i < tail.length; i++) {
    const arg = tail[i]!;
    if (arg === "--") {
      if (!spec.passThrough) throw new UsageError(`'eddy ${name}' takes no arguments after '--'`, name);
      rest = tail.slice(i + 1);
      break;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const key = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const fs = key.length > 1 && Object.hasOwn(spec.flags, key) ? spec.flags[key] : undefined;
      if (!fs) throw new UsageError(`unknown flag '--${key}' for 'eddy ${name}'`, name);
      if (fs.type === "boolean") {
        if (eq >= 0) throw new UsageError(`flag '--${key}' takes no value`, name);
        flags[key] = true;
        continue;
      }
      let raw: string;
      if (eq >= 0) raw = arg.slice(eq + 1);
      else {
        const next = tail[i + 1];
        if (next === undefined || next === "--" || (next.startsWith("--") && next.length > 2)) throw new UsageError(`flag '--${key}' needs a value`, name);
        raw = next;
        i++;
      }
      setFlag(flags, key, fs, readValue(name, `--${key}`, fs, raw));
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      const key = arg[1]!;
      const fs = arg[1] !== "-" && Object.hasOwn(spec.flags, key) ? spec.flags[key] : undefined;
      if (!fs) throw new UsageError(`unknown flag '${arg}' for 'eddy ${name}'`, name);
      if (fs.type === "boolean") {
        if (arg.length > 2) throw new UsageError(`flag '-${key}' takes no value`, name);
        flags[key] = true;
        continue;
      }
      let raw: string;
      if (arg.length > 2) raw = arg.slice(2);
      else {
        const next = tail[i + 1];
        if (next === undefined || (next.startsWith("-") && next.length > 1)) throw new UsageError(`flag '-${key}' needs a value`, name);
        raw = next;
        i++;
      }
      setFlag(flags, key, fs, readValue(name, `-${key}`, fs, raw));
      continue;
    }
    positionals.push(arg);
  }
  if (help) return { command: name, positionals, flags, rest, help };

  const required = spec.positionals.filter((p) => p.required).length;
  if (positionals.length < required) throw new UsageError(`missing ${spec.positionals[positionals.length]!.name} for 'eddy ${name}'`, name);
  if (positionals.length > spec.positionals.length) {
    const extra = positionals[spec.positionals.length]!;
    const hint = spec.passThrough ? " (job arguments go after '--')" : "";
    throw new UsageError(`unexpected argument '${extra}' for 'eddy ${name}'${hint}`, name);
  }
  spec.positionals.forEach((p, i) => {
    const v = positionals[i];
    if (v !== undefined && p.accepts && !p.accepts.test(v)) throw new UsageError(`${p.name} must be ${p.accepts.what}, got '${v}'`, name);
  });
  for (const group of spec.exclusive ?? []) {
    const given = group.filter((f) => flags[f] !== undefined);
    if (given.length > 1) throw new UsageError(`${given.map((f) => `--${f}`).join(" and ")} exclude each other`, name);
  }
  return { command: name, positionals, flags, rest, help };
}

/** Records a flag's value: a repeatable flag's values are appended, another flag's last value wins. */
function setFlag(flags: FlagValues, key: string, fs: FlagSpec, value: string | number): void {
  if (fs.repeatable) flags[key] = [...((flags[key] as string[] | undefined) ?? []), String(value)];
  else flags[key] = value;
}

/** `flag` is the flag as written (`--name` or `-X`), for the messages. */
function readValue(command: string, flag: string, fs: FlagSpec, raw: string): string | number {
  if (fs.type === "int") {
    const min = fs.min ?? 0;
    if (!/^-?\d+$/.test(raw)) throw new UsageError(`flag '${flag}' needs a whole number, got '${raw}'`, command);
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min || (fs.max !== undefined && n > fs.max))
      throw new UsageError(`flag '${flag}' must be ${fs.max !== undefined ? `between ${min} and ${fs.max}` : `at least ${min}`}, got ${raw}`, command);
    return n;
  }
  if (raw === "") throw new UsageError(`flag '${flag}' needs a non-empty value`, command);
  if (fs.choices && !fs.choices.includes(raw)) throw new UsageError(`flag '${flag}' must be one of ${fs.choices.join(", ")}, got '${raw}'`, command);
  return raw;
}

/** A flag as the usage shows it: `--name VALUE`, `--switch`, `-X VALUE`. */
function flagHead(key: string, f: FlagSpec): string {
  const dash = key.length === 1 ? `-${key}` : `--${key}`;
  return f.type === "boolean" ? dash : `${dash} ${f.value ?? "VALUE"}`;
}

/** The usage text of one command. */
export function commandUsage(spec: CommandSpec): string {
  const pos = spec.positionals.map((p) => (p.required ? p.name : `[${p.name}]`));
  const fl = Object.entries(spec.flags).map(([k, f]) => `[${flagHead(k, f)}]${f.repeatable ? "..." : ""}`);
  const lines = [`usage: eddy ${[spec.name, ...pos, ...fl, ...(spec.passThrough ? ["[-- JOB-ARGS...]"] : [])].join(" ")}`, "", `  ${spec.summary}`];
  const entries = Object.entries(spec.flags);
  if (entries.length) {
    lines.push("", "flags:");
    const heads = entries.map(([k, f]) => flagHead(k, f));
    const w = Math.max(...heads.map((h) => h.length));
    entries.forEach(([, f], i) => lines.push(`  ${heads[i]!.padEnd(w)}  ${f.help}`));
  }
  return lines.join("\n");
}

/** The overall usage text: every command with its summary. */
export function generalUsage(commands: readonly CommandSpec[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    "usage: eddy <command> [flags]",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    "",
    "Run 'eddy help <command>' for the flags of a command.",
    "NATS URL: --nats URL, else EDDY_NATS_URL, else nats://127.0.0.1:4222. Subject prefix: EDDY_PREFIX (default eddy).",
    "Exit codes: 0 success, 1 job FAILED/CANCELED or operation refused, 2 usage error, 3 cluster unreachable.",
  ].join("\n");
}
