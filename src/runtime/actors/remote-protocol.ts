/**
 * The remote actor protocol: for an actor type served outside the job, a batch of messages for one
 * address goes out with the address's state as one NATS request on `<prefix>.fn.<type>` (JSON, header
 * `Content-Type: application/json`), and the reply says the new state, the messages to send and the
 * egress records. A reply is checked whole before anything of it is applied, so a bad one changes
 * nothing; a request may be repeated after a failure (with the state of the last checkpoint).
 */
import { EddyError, ErrorCode } from "../../core/errors.js";
import { addressProblem, type Address, type Envelope } from "./types.js";

/** The body of a request. */
export interface RemoteRequest {
  address: Address;
  state: unknown;
  messages: Array<{ from: Address | null; body: unknown }>;
}

/** A message a reply sends. */
export interface RemoteSend {
  to: Address;
  body: unknown;
  delayMs?: number;
}

/** A checked reply. */
export interface RemoteReply {
  /** The new state; null clears it. */
  state: unknown;
  send: RemoteSend[];
  egress: Array<{ name: string; value: unknown }>;
}

/** Longest delay a reply may ask for (ms): 30 days. */
export const MAX_DELAY_MS = 30 * 24 * 3600 * 1000;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The subject a remote type is served on. */
export function functionSubject(prefix: string, type: string): string {
  return `${prefix}.fn.${type}`;
}

/** The request body for `messages` to `address` in state `state` (undefined: no state yet). */
export function encodeRequest(address: Address, state: unknown, messages: readonly Envelope[]): Uint8Array {
  const req: RemoteRequest = { address, state: state === undefined ? null : state, messages: messages.map((m) => ({ from: m.from, body: m.body })) };
  return encoder.encode(JSON.stringify(req));
}

/**
 * Reads and checks a reply to a request for `address`: an error reply, a body that is not JSON or
 * not the protocol's shape, a message to a type the application does not have, an egress it does not
 * have, or a body over `maxBytes` each throw an EddyError (RemoteFunctionFailed) saying which.
 */
export function decodeReply(data: Uint8Array, address: Address, types: ReadonlySet<string>, egresses: ReadonlySet<string>, maxBytes: number): RemoteReply {
  const where = `the remote function of ${address.type} (actor ${JSON.stringify(address.id)})`;
  const bad = (what: string): never => {
    throw new EddyError(ErrorCode.RemoteFunctionFailed, `${where} answered ${what}`, { details: { address } });
  };
  if (data.length > maxBytes) bad(`${data.length} bytes, more than the ${maxBytes} a reply may have`);
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(data));
  } catch (err) {
    bad(`something that is not JSON (${(err as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) bad("a reply that is not a JSON object");
  const o = v as Record<string, unknown>;
  if (o.error !== undefined) {
    const e = o.error as { code?: unknown; message?: unknown } | null;
    const code = typeof e?.code === "string" ? e.code : "unknown";
    const message = typeof e?.message === "string" ? e.message : JSON.stringify(e);
    throw new EddyError(ErrorCode.RemoteFunctionFailed, `${where} answered an error: ${code}: ${message}`, { details: { address, code } });
  }
  if (!("state" in o)) bad('a reply without "state" (send null to clear the state, or the state unchanged)');
  const send: RemoteSend[] = [];
  if (o.send !== undefined) {
    if (!Array.isArray(o.send)) bad('"send" that is not an array');
    (o.send as unknown[]).forEach((s, i) => {
      if (typeof s !== "object" || s === null) bad(`send[${i}] that is not an object {to, body, delayMs?}`);
      const m = s as { to?: unknown; body?: unknown; delayMs?: unknown };
      const problem = addressProblem(m.to);
      if (problem) bad(`send[${i}] to a wrong address: ${problem}`);
      const to = m.to as Address;
      if (!types.has(to.type)) bad(`send[${i}] to the type ${JSON.stringify(to.type)}, which the application does not have`);
      if (m.delayMs !== undefined && !(Number.isInteger(m.delayMs) && (m.delayMs as number) >= 0 && (m.delayMs as number) <= MAX_DELAY_MS))
        bad(`send[${i}].delayMs ${JSON.stringify(m.delayMs)}, which is not an integer from 0 to ${MAX_DELAY_MS}`);
      send.push({ to: { type: to.type, id: to.id }, body: m.body === undefined ? null : m.body, ...(m.delayMs ? { delayMs: m.delayMs as number } : {}) });
    });
  }
  const egress: RemoteReply["egress"] = [];
  if (o.egress !== undefined) {
    if (!Array.isArray(o.egress)) bad('"egress" that is not an array');
    (o.egress as unknown[]).forEach((x, i) => {
      const e = x as { name?: unknown; value?: unknown } | null;
      if (typeof e !== "object" || e === null || typeof e.name !== "string") bad(`egress[${i}] that is not an object {name, value}`);
      if (!egresses.has(e!.name as string)) bad(`egress[${i}] to ${JSON.stringify(e!.name)}, which the application does not have`);
      egress.push({ name: e!.name as string, value: e!.value === undefined ? null : e!.value });
    });
  }
  return { state: o.state, send, egress };
}
