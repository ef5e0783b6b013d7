/** The documentation's relative links resolve, and the repository stays self-contained. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { packageRoot } from "../../src/cluster/paths.js";

const root = packageRoot();

/** README.md, CHANGELOG.md and every docs/*.md, relative to the root. */
function markdownFiles(): string[] {
  const docs = readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
  return ["README.md", "CHANGELOG.md", ...docs.sort()];
}

/** The text outside fenced code blocks and inline code spans (links there are examples, not links). */
function proseOf(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** Targets of inline links `[text](target)` and images in the prose. */
function linkTargets(markdown: string): string[] {
  const out: string[] = [];
  for (const m of proseOf(markdown).matchAll(/!?\[[^\]]*\]\(([^()\s]+)(?:\s+"[^"]*")?\)/g)) out.push(m[1]!);
  return out;
}

/** GitHub's anchor of a heading: lowercased, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor a markdown file defines (repeated headings get `-1`, `-2`... as on GitHub). */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  for (const m of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/**
 * The broken relative links of the markdown `text` found at `file` (a path under `base`): targets
 * that do not exist, and `#anchors` that name no heading of the markdown file they point to.
 */
function brokenLinks(file: string, text: string, base: string, read: (path: string) => string | undefined): string[] {
  const broken: string[] = [];
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const [pathPart, anchor] = target.split("#", 2) as [string, string | undefined];
    const path = pathPart === "" ? join(base, file) : resolve(dirname(join(base, file)), decodeURIComponent(pathPart));
    const content = read(path);
    if (content === undefined) {
      broken.push(`${file}: ${target} (no such file)`);
      continue;
    }
    if (anchor && path.endsWith(".md") && !anchorsOf(content).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
  }
  return broken;
}

/** Reads a file of the repository; "" for a directory; undefined when it does not exist. */
function readFromDisk(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return statSync(path).isDirectory() ? "" : readFileSync(path, "utf8");
}

test("every relative link in the README, the CHANGELOG and docs/ points to an existing file and heading", () => {
  const files = markdownFiles();
  assert.ok(files.includes("docs/README.md"), "docs/README.md, the index, exists");
  let links = 0;
  const broken: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    links += linkTargets(text).length;
    broken.push(...brokenLinks(file, text, root, readFromDisk));
  }
  assert.ok(links > 50, `the documentation links its parts (found ${links} links)`);
  assert.deepEqual(broken, []);
});

test("the link check reports a missing file, a missing heading, and ignores code and URLs", () => {
  const files = new Map<string, string>([
    ["/r/docs/a.md", "# Title\n\n## Exit codes\n\n## Exit codes\n"],
    ["/r/docs", ""],
  ]);
  const read = (p: string) => files.get(p);
  const text = [
    "[ok](a.md#exit-codes) [ok2](a.md#exit-codes-1) [dir](../docs/) [web](https://example.com/x.md)",
    "[gone](b.md) [bad anchor](a.md#no-such) `[in code](c.md)`",
    "```md\n[in a block](d.md)\n```",
  ].join("\n");
  assert.deepEqual(brokenLinks("docs/index.md", text, "/r", read), ["docs/index.md: b.md (no such file)", "docs/index.md: a.md#no-such (no such heading)"]);
  assert.equal(slug("Cost of a server's loss, measured"), "cost-of-a-servers-loss-measured");
  assert.equal(slug("`eddy run`"), "eddy-run");
});

/** Files under version control (every file but build output and dependencies when git is absent). */
function trackedFiles(): string[] {
  try {
    return execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .split("\0")
      .filter(Boolean);
  } catch {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if ([".git", "node_modules", "dist"].includes(e.name)) continue;
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) out.push(relative(root, p));
      }
    };
    walk(root);
    return out;
  }
}

test("no tracked file points outside the repository to a shared folder", () => {
  // Spelled in parts so that this file does not match itself.
  const needle = ["..", "shared"].join("/");
  const files = trackedFiles();
  assert.ok(files.includes("README.md"), "the file list covers the repository");
  const offenders = files.filter((f) => existsSync(join(root, f)) && readFileSync(join(root, f), "utf8").includes(needle));
  assert.deepEqual(offenders, []);
});
