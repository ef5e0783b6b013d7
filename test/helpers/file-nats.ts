/** One test server and client connection shared by the tests of a file (hooks of node:test). */
import { after, before } from "node:test";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { startTestNats, type TestNats } from "./nats-server.js";

/** The server and connection of natsForFile, set once its `before` hook ran. */
export interface FileNats {
  readonly nats: TestNats;
  readonly nc: NatsConnection;
}

/**
 * Registers `before`/`after` hooks that start a test server and connect to it as `name` for the
 * tests of the calling file, then close the connection and stop the server.
 */
export function natsForFile(name: string): FileNats {
  let nats: TestNats | undefined;
  let nc: NatsConnection | undefined;
  before(async () => {
    nats = await startTestNats();
    nc = await connectNats(nats.url, name);
  });
  after(async () => {
    await nc?.close();
    await nats?.stop();
  });
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("natsForFile: used before its before() hook ran");
    return v;
  };
  return {
    get nats() {
      return ready(nats);
    },
    get nc() {
      return ready(nc);
    },
  };
}
