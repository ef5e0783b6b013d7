/**
 * The web server's routing table: `METHOD /path/:param` patterns matched segment by segment. A path
 * that matches with another method answers 405 with the methods it takes; no match at all, 404.
 */
import { ErrorCode } from "../core/errors.js";
import { HttpError } from "./http-reply.js";

/** The methods the server answers. */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What a route's handler is given: the path's parameters and the query. */
export interface RouteMatch<H> {
  handler: H;
  params: Record<string, string>;
}

interface Route<H> {
  segments: string[];
  /** A last segment `*` matches the rest of the path (one or more segments) as param `*`. */
  rest: boolean;
  handlers: Partial<Record<Method, H>>;
}

export class Router<H> {
  private readonly routes: Route<H>[] = [];

  /** Adds `handler` for `method` on `pattern` (`/jobs/:jid`, `/assets/*`). */
  on(method: Method, pattern: string, handler: H): this {
    const segments = pattern.split("/").filter(Boolean);
    const rest = segments.at(-1) === "*";
    if (rest) segments.pop();
    let r = this.routes.find((x) => x.rest === rest && x.segments.join("/") === segments.join("/"));
    if (!r) this.routes.push((r = { segments, rest, handlers: {} }));
    r.handlers[method] = handler;
    return this;
  }

  /** The handler of `method` on `path` (already URL-decoded per segment); throws 404 or 405. */
  match(method: string, path: string): RouteMatch<H> {
    const parts = path.split("/").filter(Boolean);
    let allowed: string[] | undefined;
    for (const r of this.routes) {
      const params = matchSegments(r, parts);
      if (!params) continue;
      const h = r.handlers[method as Method] ?? (method === "HEAD" ? r.handlers.GET : undefined);
      if (h) return { handler: h, params };
      allowed ??= Object.keys(r.handlers);
    }
    if (allowed)
      throw new HttpError(405, ErrorCode.MethodNotAllowed, `${method} is not allowed on ${path}; allowed: ${allowed.join(", ")}`, {
        allow: allowed.join(", "),
      });
    throw new HttpError(404, ErrorCode.UnknownPath, `no resource at ${path}; see docs/rest.md`);
  }
}

function matchSegments<H>(r: Route<H>, parts: string[]): Record<string, string> | undefined {
  if (r.rest ? parts.length <= r.segments.length : parts.length !== r.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < r.segments.length; i++) {
    const s = r.segments[i]!;
    if (s.startsWith(":")) params[s.slice(1)] = parts[i]!;
    else if (s !== parts[i]) return undefined;
  }
  if (r.rest) params["*"] = parts.slice(r.segments.length).join("/");
  return params;
}
