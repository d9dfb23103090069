/** `oasst chat` on a terminal (tmux) against the real stack: the interactive session. Skipped without tmux. */
import { spawnSync } from "node:child_process";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
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
  it("keeps the conversation across turns; /reset forgets it; /exit leaves with status 0; no chat left", async () => {
    const cookie = await userCookie("tty");
    const pane = await session(cookie);
    await pane.typeLine("first turn [[fake:tokens=1]]");
    await pane.waitFor(/assistant> You said: .*first turn/s, 15_000);
    await pane.waitFor(/lorem\s*\n+you> $/m, 15_000);

    await pane.typeLine("second turn [[fake:tokens=1]]");
    // The whole conversation is the prompt: the worker echoes it.
    const screen = await pane.waitFor(/User: second turn/, 15_000);
    expect(screen).toMatch(/User: first turn/);
    await pane.waitFor(/lorem\s*\n+you> $/m, 15_000);

    await pane.typeLine("/reset");
    await pane.waitFor("The conversation is cleared.");
    await pane.typeLine("third turn [[fake:tokens=1]]");
    await pane.waitFor(/You said: .*third turn/s, 15_000);
    await pane.waitFor(/lorem\s*\n+you> $/m, 15_000);
    expect((await pane.capture()).split("third turn")[1]).not.toContain("User: first turn");

    await pane.typeLine("/exit");
    expect(await pane.exitStatus(15_000)).toBe(0);
    await waitForNoChats(cookie);
  });

  it("Ctrl-C stops a reply, deletes its chat, and the session goes on", async () => {
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
    await waitForNoChats(cookie);
  });
});
