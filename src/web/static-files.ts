/**
 * The dashboard's files: `dist/web-ui/index.html` and `dist/web-ui/assets/*`, as the dashboard's
 * build writes them, resolved from the package root. Only plain file names are served (no path
 * separators, no dot segments); a dashboard that was not built answers 503 with how to build it.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { packageRoot } from "../cluster/paths.js";
import { ErrorCode } from "../core/errors.js";
import { HttpError, type Reply } from "./http-reply.js";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json; charset=utf-8",
  map: "application/json; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  woff2: "font/woff2",
  txt: "text/plain; charset=utf-8",
};

/** A file name the server may serve: letters, digits, `.`, `_`, `-`, not starting with a dot. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

const NOT_BUILT = `<!doctype html><html><head><meta charset="utf-8"><title>Eddy</title></head>
<body><h1>dashboard not built: run npm run build</h1><p>The REST API answers under <code>/overview</code>, <code>/jobs/overview</code>, ... (docs/rest.md).</p></body></html>`;

export class StaticFiles {
  constructor(private readonly dir = join(packageRoot(), "dist", "web-ui")) {}

  /** `GET /`: the dashboard's index.html, or the 503 page when it was not built. */
  async index(): Promise<Reply> {
    try {
      return { text: await readFile(join(this.dir, "index.html")), type: TYPES.html! };
    } catch {
      return { text: NOT_BUILT, type: TYPES.html!, status: 503 };
    }
  }

  /** `GET /assets/<name>`: one file of the bundle. */
  async asset(name: string): Promise<Reply> {
    if (!SAFE_NAME.test(name) || name.includes("..")) throw new HttpError(404, ErrorCode.UnknownPath, `no asset ${JSON.stringify(name)}`);
    const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
    const type = TYPES[ext];
    if (!type) throw new HttpError(404, ErrorCode.UnknownPath, `no asset ${name}`);
    try {
      return { text: await readFile(join(this.dir, "assets", name)), type };
    } catch {
      throw new HttpError(404, ErrorCode.UnknownPath, `no asset ${name}`);
    }
  }
}
