/**
 * Duplicate keys in JSON text. `JSON.parse` keeps the last of two equal keys without a word, so a
 * log line like `{"pid":1,"pid":2}` parses; this scanner walks the text itself and reports them.
 */

/** Every key that appears twice in one object of `text`, as `path.key` (`$` is the top level). Throws on malformed JSON. */
export function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`expected ${what} at offset ${i} of ${JSON.stringify(text.slice(0, 80))}`);
  };
  const string = (): string => {
    const start = i;
    if (text[i] !== '"') fail("a string");
    for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    if (text[i] !== '"') fail("the end of a string");
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = string();
        if (seen.has(key)) found.push(`${path}.${key}`);
        seen.add(key);
        ws();
        if (text[i++] !== ":") fail("':'");
        value(`${path}.${key}`);
        ws();
        const sep = text[i++];
        if (sep === "}") return;
        if (sep !== ",") fail("',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        ws();
        const sep = text[i++];
        if (sep === "]") return;
        if (sep !== ",") fail("',' or ']'");
      }
    }
    if (c === '"') {
      string();
      return;
    }
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail("a value");
    i += m![0].length;
  };
  value("$");
  ws();
  if (i !== text.length) fail("the end of the text");
  return found;
}
