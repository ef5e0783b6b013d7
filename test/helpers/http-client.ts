/**
 * A raw HTTP client for tests of the web server: the request target is sent exactly as given (no
 * normalization of `..` or percent-encoding, unlike fetch), every call has a timeout.
 */
import { request } from "node:http";

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

/** Sends `method target` to `base` (`http://host:port`) with an optional body and headers; resolves with the whole answer. */
export function http(
  base: string,
  method: string,
  target: string,
  body?: string | Buffer,
  timeoutMs = 20_000,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path: target,
        headers: { ...(body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }), ...headers },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${target}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** GET `target` and expect status 200; resolves with the JSON body. */
export async function getJson<T = unknown>(base: string, target: string): Promise<T> {
  const r = await http(base, "GET", target);
  if (r.status !== 200) throw new Error(`GET ${target}: ${r.status} ${r.text.slice(0, 500)}`);
  return r.json as T;
}

/**
 * Opens `GET target` (with `headers`) as an event stream and resolves with the first event named
 * `event` (its data parsed), then closes the stream; rejects after `timeoutMs`.
 */
export function firstEvent(
  base: string,
  target: string,
  event: string,
  timeoutMs = 20_000,
  headers: Record<string, string> = {},
): Promise<{ data: unknown; status: number; type: string | undefined; headers: HttpAnswer["headers"] }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: "GET", path: target, headers }, (res) => {
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        for (let end = buf.indexOf("\n\n"); end >= 0; end = buf.indexOf("\n\n")) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name === event && data !== undefined) {
            clearTimeout(timer);
            req.destroy();
            resolve({ data: JSON.parse(data), status: res.statusCode ?? 0, type: res.headers["content-type"], headers: res.headers });
            return;
          }
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no "${event}" event on ${target} within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** Opens `GET target` and resolves once the answer's headers arrived (status 200 expected); the caller destroys it. */
export function openStream(base: string, target: string, timeoutMs = 20_000): Promise<{ destroy(): void }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: "GET", path: target, agent: false, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        req.destroy();
        reject(new Error(`GET ${target}: ${res.statusCode}`));
        return;
      }
      res.resume();
      resolve({ destroy: () => req.destroy() });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${target}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
