/**
 * `oasst chat` and one account's rules on a real server: one queued reply per user (a
 * second one cancels the first), and the rate limit, answered with a bare HTTP 500 on
 * the 21st reply in 11 minutes.
 */
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { Accounts } from "../../src/accounts/accounts.js";
import { OpenAssistant } from "../../src/provider/open-assistant.js";
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

it("exit 3 with the time to wait, in a new process, when earlier runs used the account's 20 replies", async () => {
  const server = await emulators.start({ replyTokens: 2 });
  // Earlier runs on this machine: they count into the same file as `oasst chat` does.
  const accounts = new Accounts({ ledgerFile: join(home.configDir, "oasst", "rate-limits.json") });
  for (let n = 0; n < 20; n++) {
    await OpenAssistant.createAsync("OA_SFT_Llama_30B_6", [{ role: "user", content: `hi ${n}` }], { baseUrl: server.url, cookies: server.cookies, accounts });
  }
  const result = await runCli(["chat", "one more"], home, { env: serverEnv(server) });
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(
    /^error: POST \/api\/chat\/assistant_message was refused \(HTTP 500: Something went wrong\): this account has used its 20 replies of the current 11-minute window$/m,
  );
  expect(result.stderr).toMatch(/^hint: Wait (10 min \d+ s|11 min) before sending more messages/m);
  expect(server.liveChats()).toBe(0);
});

it("exit 4 for a 500 when this machine did not fill the window, the hint naming the rate limit", async () => {
  const server = await emulators.start({ faults: ["rate-limit-500"] });
  const result = await runCli(["chat", "hi"], home, { env: serverEnv(server) });
  expect(result.code).toBe(4);
  expect(result.stderr).toMatch(/^error: POST \/api\/chat\/assistant_message failed \(HTTP 500: Something went wrong\), and no reply was created$/m);
  expect(result.stderr).toMatch(/^hint: If this account is also used elsewhere/m);
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
