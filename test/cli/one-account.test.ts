/** Several `oasst chat` processes on one account: on a real server, each one's queued reply would cancel the other's. */
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { assertBuilt, emulatorPool, makeTempHome, runCli, serverEnv, type TempHome } from "./cli-harness.js";

let home: TempHome;
const emulators = emulatorPool();

beforeAll(() => assertBuilt());
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await emulators.stopAll();
  await home.remove();
});

it("four runs at once on one account all get their reply: they take the account's turn one after another", async () => {
  // One worker slot: a reply posted while another generates waits in the queue, where a second one would cancel it.
  const server = await emulators.start({ workerSlots: 1, tokenDelayMs: 20, replyTokens: 10 });
  const runs = await Promise.all([0, 1, 2, 3].map((n) => runCli(["chat", `hello ${n}`], home, { env: serverEnv(server), timeoutMs: 30_000 })));
  runs.forEach((run, n) => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${server.expectedReply(`hello ${n}`, { maxNewTokens: 10 })}\n`);
  });
  expect(server.liveChats()).toBe(0);
});
