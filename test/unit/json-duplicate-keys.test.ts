/** The duplicate-key scanner the log-line tests rely on: it finds what JSON.parse hides. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { duplicateKeys } from "../helpers/json-keys.js";

test("a key repeated at the top level or in a nested object is reported with its path", () => {
  assert.deepEqual(duplicateKeys('{"level":30,"pid":1,"msg":"a","pid":2}'), ["$.pid"]);
  assert.deepEqual(duplicateKeys('{"err":{"code":"X","code":"Y"},"list":[{"a":1,"a":2}]}'), ["$.err.code", "$.list[0].a"]);
  assert.deepEqual(duplicateKeys('{"a\\u0062":1,"ab":2}'), ["$.ab"], "keys compare after unescaping");
});

test("equal keys in different objects, and keys that only look alike, are not reported", () => {
  assert.deepEqual(duplicateKeys('{"a":{"b":1},"b":{"a":2},"s":"\\"a\\":1,\\"a\\":2","n":[-1.5e3,true,null,{}]}'), []);
  assert.deepEqual(duplicateKeys('  {"Pid":1, "pid":2}\n'), []);
});

test("malformed JSON is an error, not a clean result", () => {
  for (const bad of ['{"a":1', '{"a" 1}', '{"a":1,}', '{"a":1} x', "[1 2]", '{"a":tru}']) assert.throws(() => duplicateKeys(bad), SyntaxError, bad);
});
