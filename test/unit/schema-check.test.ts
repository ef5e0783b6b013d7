/**
 * The message checkers (src/schema): a valid body passes through with unknown fields dropped, and a
 * refusal names the exact field, however deep, although the success path builds no paths.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { s } from "../../src/schema/index.js";
import { ErrorCode, ValidationError } from "../../src/core/errors.js";

const Report = s.object({
  id: s.str({ max: 8 }),
  items: s.array(s.object({ n: s.int({ min: 0 }), tags: s.optional(s.record(s.num, 4)) }), 10),
});
const parse = s.parser(Report);

test("a valid body parses, unknown fields dropped", () => {
  assert.deepEqual(
    parse({
      id: "a",
      extra: 1,
      items: [
        { n: 1, x: 2 },
        { n: 2, tags: { a: 1 } },
      ],
    }),
    {
      id: "a",
      // A record is built without a prototype: a key such as "__proto__" stays a plain key.
      items: [{ n: 1 }, { n: 2, tags: Object.assign(Object.create(null), { a: 1 }) }],
    },
  );
});

test("a refusal names the exact field: array items, nested objects and record keys", () => {
  const refused = (body: unknown, message: RegExp) =>
    assert.throws(
      () => parse(body),
      (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.MalformedRequest && message.test(e.message),
    );
  refused({ id: 1, items: [] }, /^id: must be a string$/);
  refused({ id: "a", items: [{ n: 1 }, { n: -1 }] }, /^items\[1\]\.n: must be at least 0$/);
  refused({ id: "a", items: [{ n: 1, tags: { a: 1, b: "x" } }] }, /^items\[0\]\.tags\.b: must be a number$/);
  refused({ id: "a", items: new Array(11).fill({ n: 1 }) }, /^items: must have at most 10 items$/);
});
