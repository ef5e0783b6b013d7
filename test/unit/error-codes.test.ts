/**
 * The one error vocabulary: every code described once, the docs table generated from it, codes
 * typed (a code outside the union does not compile), and every error class surviving the wire with
 * its class, code and details, while whatever else a peer sends becomes an InternalError.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  ConflictError,
  ERROR_CODE_DESCRIPTIONS,
  EddyError,
  ErrorCode,
  errorCodeOr,
  errorCodesMarkdown,
  errorFromWire,
  failureInfo,
  FencingTokenError,
  IllegalStateTransitionError,
  InternalError,
  isErrorCode,
  NotFoundError,
  RemoteError,
  TimeoutError,
  toEddyError,
  ValidationError,
} from "../../src/core/index.js";
import { decode, encode, type ContentType } from "../../src/codec/codec.js";
import { NatsServerError } from "../../src/cluster/nats-server.js";
import { BarrierError } from "../../src/core/stream-events.js";
import { s } from "../../src/schema/index.js";

const CODES = Object.keys(ERROR_CODE_DESCRIPTIONS) as ErrorCode[];

test("docs/error-codes.md is what the generator writes from the codes (npm run docs:errors)", () => {
  const committed = readFileSync(new URL("../../../docs/error-codes.md", import.meta.url), "utf8");
  assert.equal(committed, errorCodesMarkdown(), "docs/error-codes.md is out of date: run npm run docs:errors");
  for (const code of CODES) assert.ok(committed.includes(`| \`${code}\` | `), `${code} has a row`);
});

test("every code names itself and has a one-line description", () => {
  assert.ok(CODES.length >= 40);
  for (const code of CODES) {
    assert.equal(ErrorCode[code], code);
    const text = ERROR_CODE_DESCRIPTIONS[code];
    assert.ok(text.length >= 20 && !text.includes("\n"), `${code}: ${text}`);
    assert.ok(isErrorCode(code));
  }
  assert.equal(Object.isFrozen(ErrorCode), true);
});

test("the codes clients match on keep their strings", () => {
  // A sample from each of the vocabularies that were merged (core, blob, user code, checkpoint, process).
  for (const code of [
    "MalformedRequest",
    "JobNotFound",
    "FencingTokenMismatch",
    "BundleNotFound",
    "UserCodeFailed",
    "ApplicationTimeout",
    "StateCorrupt",
    "CheckpointStorageFailed",
    "NatsServerFailed",
    "RemoteLinkInterrupted",
  ])
    assert.ok(isErrorCode(code), code);
});

test("isErrorCode and errorCodeOr refuse what is not a code", () => {
  for (const v of ["NoSuchCode", "", "toString", "__proto__", "constructor", 42, null, undefined, {}, ["JobNotFound"]]) {
    assert.equal(isErrorCode(v), false, String(v));
    assert.equal(errorCodeOr(v), ErrorCode.InternalError);
  }
  assert.equal(errorCodeOr("JobNotFound"), ErrorCode.JobNotFound);
});

test("a code outside the union does not compile", () => {
  // @ts-expect-error "NoSuchCode" is not an ErrorCode
  const e = new EddyError("NoSuchCode", "x");
  // @ts-expect-error a ValidationError takes an ErrorCode too
  const v = new ValidationError("Malformed", "x");
  const code: ErrorCode = e.code;
  assert.equal(code, "NoSuchCode");
  assert.equal(v.code, "Malformed");
});

/** `e` sent as an RPC error reply (`{error: WireError}`) in `type` and rebuilt on the far side. */
function overTheWire(e: EddyError, type: ContentType): EddyError {
  const body = decode(encode({ error: e.toWire(true) }, type), type) as { error: unknown };
  return errorFromWire(body.error);
}

for (const type of ["msgpack", "json"] as const) {
  test(`every error class survives the wire with its class, code, message and details (${type})`, () => {
    const details = { vertexId: "v1", n: 3 };
    const cases: Array<[EddyError, new (...a: never[]) => EddyError]> = [
      [new EddyError(ErrorCode.SlotAllocationFailed, "no slots", { details }), EddyError],
      [new ValidationError(ErrorCode.InvalidJobGraph, "bad graph", { details }), ValidationError],
      [new NotFoundError(ErrorCode.JobNotFound, "no job", { details }), NotFoundError],
      [new ConflictError(ErrorCode.DuplicateJobId, "twice", { details }), ConflictError],
      [new FencingTokenError("stale", { details }), FencingTokenError],
      [new TimeoutError("slow", { details }), TimeoutError],
      [new InternalError("broken", { details }), InternalError],
      [new IllegalStateTransitionError("JobStatus", "CREATED", "FINISHED"), IllegalStateTransitionError],
    ];
    for (const [sent, C] of cases) {
      const got = overTheWire(sent, type);
      assert.ok(got instanceof C, `${sent.name} comes back as ${got.name}`);
      assert.equal(got.name, sent.name);
      assert.equal(got.code, sent.code);
      assert.equal(got.message, sent.message);
      assert.deepEqual(got.details, sent.details);
      assert.equal(got.stack, sent.stack);
    }
  });

  test(`an error class not known on the far side comes back as RemoteError with its name and code (${type})`, () => {
    for (const sent of [new NatsServerError("no binary", { details: { logPath: "/x" } }), new BarrierError("bad barrier", { checkpointId: -1 })]) {
      const got = overTheWire(sent, type);
      assert.ok(got instanceof RemoteError);
      assert.equal(got.name, sent.name);
      assert.equal(got.code, sent.code);
      assert.deepEqual(got.details, sent.details);
      assert.equal((got as RemoteError).peerCode, undefined);
    }
  });
}

test("a code this version does not know becomes InternalError, the peer's code kept in peerCode", () => {
  for (const name of ["ValidationError", "NotFoundError", "SomeNewError", undefined]) {
    const got = errorFromWire({ code: "QuotaExceeded", message: "too many jobs", name, details: { max: 3 } });
    assert.ok(got instanceof RemoteError, `${name}: ${got.name}`);
    assert.equal(got.code, ErrorCode.InternalError);
    assert.equal((got as RemoteError).peerCode, "QuotaExceeded");
    assert.equal(got.message, "too many jobs");
    assert.deepEqual(got.details, { max: 3 });
    if (name) assert.equal(got.name, name);
  }
});

test("whatever a peer sends as an error is rebuilt without throwing", () => {
  const bodies: unknown[] = [
    undefined,
    null,
    "boom",
    42,
    [],
    {},
    { code: 7, message: { x: 1 } },
    { code: "JobNotFound", message: "m", name: "constructor" },
    { code: "JobNotFound", message: "m", name: "__proto__" },
    { name: "IllegalStateTransitionError", details: 5 },
  ];
  for (const b of bodies) {
    const e = errorFromWire(b);
    assert.ok(e instanceof EddyError, JSON.stringify(b));
    assert.ok(isErrorCode(e.code), `${JSON.stringify(b)} gave ${e.code}`);
    assert.equal(typeof e.message, "string");
  }
  assert.equal(errorFromWire(null).code, ErrorCode.InternalError);
  const named = errorFromWire({ code: "JobNotFound", message: "m", name: "constructor" });
  assert.ok(named instanceof RemoteError, "a name that is an Object property is no known class");
  assert.equal(named.code, ErrorCode.JobNotFound);
});

test("a foreign error becomes InternalError keeping its cause, and a FailureInfo keeps the code", () => {
  const cause = new TypeError("x is undefined");
  const e = toEddyError(cause);
  assert.ok(e instanceof InternalError);
  assert.equal(e.code, ErrorCode.InternalError);
  assert.equal(e.cause, cause);
  assert.deepEqual(
    { ...failureInfo(new NotFoundError(ErrorCode.TaskNotFound, "gone")), stack: undefined },
    { code: "TaskNotFound", name: "NotFoundError", message: "gone", stack: undefined },
  );
});

test("a failure's code from a peer is checked: an unknown one reads as InternalError, a malformed one is refused", () => {
  const Failure = s.object({ code: s.errorCode, message: s.str() });
  assert.equal(Failure({ code: "TaskFailed", message: "m" }, "").code, ErrorCode.TaskFailed);
  assert.equal(Failure({ code: "FromTheFuture", message: "m" }, "").code, ErrorCode.InternalError);
  assert.throws(
    () => Failure({ code: 3, message: "m" }, ""),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.MalformedRequest,
  );
  assert.throws(
    () => Failure({ code: "x".repeat(101), message: "m" }, ""),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.MalformedRequest,
  );
});
