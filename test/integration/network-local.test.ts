/** Same-thread link (producer and consumer in one slot): records arrays handed over directly. */
import { Subjects } from "../../src/rpc/subjects.js";
import { NetworkEnvironment } from "../../src/network/index.js";
import { natsForFile } from "../helpers/file-nats.js";
import { describeLinkScenarios } from "../helpers/network-scenarios.js";

const nats = natsForFile("network-local-test");
const here = { taskExecutorId: "teA", slotIndex: 0 };

describeLinkScenarios(
  "local",
  (config = {}) => {
    const e = new NetworkEnvironment({ nc: nats.nc, subjects: new Subjects("eddy-test-local"), location: here, config });
    return { producer: e, consumer: e, producerAt: () => here, consumerAt: () => here, close: () => e.close() };
  },
  { bufferRecords: 64 },
);
