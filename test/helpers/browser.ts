/** Driving the dashboard in a real browser: Debian's chromium through playwright-core (no browser download). */
import { join } from "node:path";
import type { Page } from "playwright-core";

/** The chromium binary (EDDY_CHROMIUM, else Debian's); .ci/run installs it when missing. */
export const CHROMIUM = process.env.EDDY_CHROMIUM ?? "/usr/bin/chromium";

/** How long a page may take to show what a test waits for, ms. */
export const PAGE_WAIT_MS = 30_000;

/** Waits until the page's DOM satisfies `predicate(arg)` (polled in the page); the error shows the page's text. */
export async function until<A>(page: Page, what: string, predicate: (arg: A) => boolean, arg: A): Promise<void> {
  const inPage = predicate as (arg: unknown) => boolean;
  try {
    await page.waitForFunction(inPage, arg as unknown, { timeout: PAGE_WAIT_MS, polling: 100 });
  } catch (err) {
    throw new Error(
      `dashboard: no ${what} within ${PAGE_WAIT_MS} ms (${(err as Error).message.split("\n")[0]})\npage text:\n${((await page.textContent("body")) ?? "").slice(0, 3000)}`,
    );
  }
}

/** Saves a full-page screenshot as `<dir>/<name>.png` and prints its path. */
export async function shot(page: Page, dir: string, name: string): Promise<void> {
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`dashboard screenshot: ${path}`);
}
