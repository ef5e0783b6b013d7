/**
 * The JobManager's web token as the dashboard holds it (docs/dashboard.md#security): asked of the
 * user when the server answers 401, or taken once from an address ending in `#token=<token>` (a
 * fragment is never sent to a server, so it is in no access log). It is kept in sessionStorage: it
 * lives as long as the tab, is not shared with other tabs, and is gone when the browser closes.
 * Every request sends it when the page has one; the server needs it for writes, and for reads only
 * from clients that are not on its loopback.
 */
import { askTokenDialog } from "./dialog.js";

const KEY = "eddy.web-token";
/** Where the token lives when the browser refuses sessionStorage (a privacy mode). */
let inMemory: string | undefined;
let asking: Promise<string | undefined> | undefined;
/** The user declined the dialog: reads stop asking (polls would reopen it every few seconds), actions still ask. */
let declined = false;

export function currentToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? inMemory;
  } catch {
    return inMemory;
  }
}

function keep(token: string): void {
  inMemory = token;
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // the in-memory copy serves this page
  }
}

/** The Authorization header of the token the page has, if any. */
export function authHeader(): Record<string, string> {
  const t = currentToken();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** Takes `#token=<token>` from the address, keeps it, and replaces the fragment with the first view's (so it leaves the address bar and the history). */
export function takeTokenFromAddress(): void {
  const m = /^#token=([^&]*)/.exec(location.hash);
  if (!m) return;
  try {
    const token = decodeURIComponent(m[1]!).trim();
    if (token) keep(token);
  } catch {
    // not percent-encoding: nothing to keep
  }
  history.replaceState(null, "", `${location.pathname}${location.search}#/overview`);
}

/**
 * Asks the user for the token after a 401 (`reason` is the server's message); resolves with the token
 * typed, or undefined when the user declined. One dialog at a time: requests refused meanwhile wait
 * for the same answer. `action` is true for a write the user asked for: it asks even after the user
 * declined once.
 */
export function askForToken(reason: string, action: boolean): Promise<string | undefined> {
  if (!asking && declined && !action) return Promise.resolve(undefined);
  asking ??= askTokenDialog(reason).then((token) => {
    asking = undefined;
    declined = token === undefined;
    if (token !== undefined) keep(token);
    return token;
  });
  return asking;
}
