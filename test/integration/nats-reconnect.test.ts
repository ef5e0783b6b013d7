/**
 * onReconnect against a real nats-server killed with SIGKILL and started again on its port: the
 * callback runs once the connection is re-established, and not after it was stopped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectNats, onReconnect } from "../../src/rpc/nats.js";
import { startNatsServer } from "../../src/cluster/nats-server.js";
import { waitFor } from "../../src/core/time.js";

test("onReconnect calls back when the connection is re-established after its server's SIGKILL and return", async () => {
  const storeDir = mkdtempSync(join(tmpdir(), "eddy-test-reconnect-"));
  let server = await startNatsServer({ port: 0, storeDir });
  const port = server.port;
  const nc = await connectNats(server.url, "reconnect-test");
  try {
    let calls = 0;
    const stop = onReconnect(nc, () => calls++);
    await server.kill();
    server = await startNatsServer({ port, storeDir });
    await waitFor(() => calls === 1 || undefined, 10_000, "the reconnect callback");
    stop();
    await server.kill();
    server = await startNatsServer({ port, storeDir });
    await waitFor(
      () =>
        nc.flush().then(
          () => true,
          () => undefined,
        ),
      10_000,
      "the connection working again",
    );
    assert.equal(calls, 1, "no callback after stop()");
  } finally {
    await nc.close();
    await server.stop();
    rmSync(storeDir, { recursive: true, force: true });
  }
});
