/** `oasst chat` on a terminal (tmux) against the real stack: the interactive session. Skipped without tmux. */
import { spawnSync } from "node:child_process";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OpenAssistantClient } from "../../src/client/client.js";
import { assertBuilt, makeTempHome, type TempHome } from "../cli/cli-harness.js";
import { stopTmuxServer, TmuxPane } from "../cli/tmux-harness.js";
import { chatIds, realStack, userCookie, waitForNoChats } from "./stack.js";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
let home: TempHome;
const panes: TmuxPane[] = [];

async function session(cookie: string): Promise<TmuxPane> {
  const pane = await TmuxPane.start(["chat"], home, { OASST_BASE_URL: realStack().website, OASST_COOKIES: cookie });
  panes.push(pane);
  await pane.waitFor(/^you> $/m, 15_000);
  return pane;
}

/** The session keeps its chats: the test removes them. */
async function deleteChats(cookie: string): Promise<void> {
  const client = new OpenAssistantClient({ baseUrl: realStack().website, cookies: cookie, env: {} });
  try {
    for (const id of await chatIds(cookie)) await client.deleteChat(id);
  } finally {
    await client.close();
  }
  await waitForNoChats(cookie);
}

beforeAll(() => assertBuilt());
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await Promise.all(panes.splice(0).map((pane) => pane.kill()));
  await home.remove();
});
afterAll(() => stopTmuxServer());

describe.skipIf(!hasTmux)("the interactive session", () => {
  it("continues one chat across turns; /new starts another; /exit leaves with status 0 and names the kept chat", async () => {
    const cookie = await userCookie("tty");
    const pane = await session(cookie);
    await pane.typeLine("first turn [[fake:tokens=1]]");
    await pane.waitFor(/assistant> You said: .*first turn/s, 15_000);
    await pane.waitFor(/lorem\s*\n+you> $/m, 15_000);

    // Only the new message is posted, under the first reply: still one chat.
    await pane.typeLine("second turn [[fake:tokens=1]]");
    await pane.waitFor(/You said: .*second turn/s, 15_000);
    await pane.waitFor(/lorem\s*\n+you> $/m, 15_000);
    const [chatId] = await chatIds(cookie);
    expect(await chatIds(cookie)).toHaveLength(1);

    await pane.typeLine("/new");
    await pane.waitFor(`New chat: your next message starts it. The last one stays on the site: oasst chat --continue ${chatId}`);
    await pane.typeLine("third turn [[fake:tokens=1]]");
    await pane.waitFor(/You said: .*third turn/s, 15_000);
    await pane.waitFor(/lorem\s*\n+you> $/m, 15_000);
    expect(await chatIds(cookie)).toHaveLength(2);

    await pane.typeLine("/exit");
    expect(await pane.exitStatus(15_000)).toBe(0);
    expect(await pane.capture()).toMatch(/Chat \S+ is kept: continue it with `oasst chat --continue \S+`, delete it with `oasst chats --delete \S+`\./);
    await deleteChats(cookie);
  });

  it("Ctrl-C stops the first reply, deletes its chat, and the session goes on in a new chat", async () => {
    const cookie = await userCookie("tty");
    const pane = await session(cookie);
    await pane.typeLine("a long story [[fake:tokens=60]] [[fake:delay=50]]");
    await pane.waitFor(/assistant> \S+/, 15_000);
    expect(await chatIds(cookie)).toHaveLength(1);
    await pane.keys("C-c");
    await pane.waitFor(/\(reply stopped\)\nyou> $/m, 15_000);
    await waitForNoChats(cookie);
    await pane.typeLine("short one [[fake:tokens=1]]");
    await pane.waitFor(/You said: .*short one/s, 15_000);
    await pane.waitFor(/lorem\s*\n+you> $/m, 15_000);
    await pane.keys("C-d");
    expect(await pane.exitStatus(15_000)).toBe(0);
    // The stopped first reply's chat is gone; the next message started a kept one.
    expect(await chatIds(cookie)).toHaveLength(1);
    await deleteChats(cookie);
  });
});
