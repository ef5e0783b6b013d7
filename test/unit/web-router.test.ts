import { test } from "node:test";
import assert from "node:assert/strict";
import { Router } from "../../src/web/router.js";
import { HttpError, statusOf } from "../../src/web/http-reply.js";
import { EddyError, ErrorCode, ConflictError } from "../../src/core/errors.js";
import { backpressureLevel } from "../../src/web/rest-views.js";

const router = () =>
  new Router<string>()
    .on("GET", "/jobs/:jid", "job")
    .on("PATCH", "/jobs/:jid", "cancel")
    .on("GET", "/jobs/overview", "overview")
    .on("GET", "/assets/*", "asset");

function refusal(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    return err;
  }
  return assert.fail("expected a refusal");
}

test("routes match by segments and name their parameters; a literal route wins over a parameter declared later", () => {
  assert.deepEqual(router().match("GET", "/jobs/abc"), { handler: "job", params: { jid: "abc" } });
  assert.deepEqual(router().match("PATCH", "/jobs/abc/"), { handler: "cancel", params: { jid: "abc" } });
  assert.equal(router().match("GET", "/jobs/overview").handler, "job", "the first route that matches answers");
  assert.deepEqual(router().match("GET", "/assets/app.js"), { handler: "asset", params: { "*": "app.js" } });
  assert.equal(router().match("HEAD", "/jobs/x").handler, "job", "HEAD is answered as GET");
});

test("a path served with other methods answers 405 with Allow; an unknown path 404", () => {
  const wrong = refusal(() => router().match("DELETE", "/jobs/abc"));
  assert.equal(wrong.status, 405);
  assert.equal(wrong.code, ErrorCode.MethodNotAllowed);
  assert.equal(wrong.headers.allow, "GET, PATCH");
  const missing = refusal(() => router().match("GET", "/jobs/abc/nothing"));
  assert.equal(missing.status, 404);
  assert.equal(missing.code, ErrorCode.UnknownPath);
  assert.equal(refusal(() => router().match("GET", "/assets")).status, 404, "a rest route needs at least one segment");
});

test("Eddy's error codes map to HTTP statuses: 404 unknown, 400 malformed, 409 refused now, 503 no answer", () => {
  assert.equal(statusOf(new EddyError(ErrorCode.JobNotFound, "x")), 404);
  assert.equal(statusOf(new EddyError(ErrorCode.MalformedRequest, "x")), 400);
  assert.equal(statusOf(new EddyError(ErrorCode.RescaleNotSupported, "x")), 409);
  assert.equal(statusOf(new ConflictError(ErrorCode.DuplicateJobId, "x")), 409);
  assert.equal(statusOf(new EddyError(ErrorCode.NoResponders, "x")), 503);
  assert.equal(statusOf(new EddyError(ErrorCode.InternalError, "x")), 500);
});

test("backpressure levels follow Flink's thresholds: ok up to 0.10, low up to 0.50, high above", () => {
  assert.deepEqual([0, 0.1, 0.11, 0.5, 0.51, 1].map(backpressureLevel), ["ok", "ok", "low", "low", "high", "high"]);
});
