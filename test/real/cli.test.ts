/** The `oasst` command (dist/cli/main.js, run as a child with a clean environment) against the real stack. */
import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OpenAssistantClient } from "../../src/index.js";
import { assertBuilt, collect, makeTempHome, runCli, spawnCli, waitForOutput, type TempHome } from "../cli/cli-harness.js";
import { MODEL, chatIds, realStack, userCookie, waitForNoChats } from "./stack.js";

let home: TempHome;
beforeAll(() => assertBuilt());
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await home.remove();
});

const site = () => ["--base-url", realStack().website];
const TIMEOUT = { timeoutMs: 30_000 };

/** The token value of a `name=value` Cookie header. */
const tokenOf = (cookie: string) => cookie.slice(cookie.indexOf("=") + 1);

/** Leaves chats on the site for `cookie` (as a browser would), titled by their first prompt. */
async function leaveChats(cookie: string, prompts: string[]): Promise<string[]> {
  const client = new OpenAssistantClient({ baseUrl: realStack().website, cookies: cookie, env: {} });
  try {
    const ids: string[] = [];
    for (const content of prompts) {
      const chat = await client.createChat();
      await client.postPrompterMessage({ chat_id: chat.id, parent_id: null, content });
      ids.push(chat.id);
    }
    return ids;
  } finally {
    await client.close();
  }
}

describe("oasst chat", () => {
  it("streams the reply of a prompt argument; the chat is deleted", async () => {
    const cookie = await userCookie();
    const result = await runCli(["chat", "hello there", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^You said: /);
    expect(result.stdout).toContain("hello there");
    expect(result.stdout).toContain("über 日本語 🙂 lorem ipsum");
    await waitForNoChats(cookie);
  });

  it("joins the words of the prompt and reads OASST_BASE_URL / OASST_COOKIES", async () => {
    const cookie = await userCookie();
    const result = await runCli(["chat", "hello", "from", "env", "[[fake:tokens=2]]"], home, {
      ...TIMEOUT,
      env: { OASST_BASE_URL: realStack().website, OASST_COOKIES: cookie },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("hello from env");
    await waitForNoChats(cookie);
  });

  it("reads the prompt from stdin, with --system as the first message", async () => {
    const cookie = await userCookie();
    const result = await runCli(["chat", "--system", "Be brief.", ...site(), "--cookie", cookie], home, {
      ...TIMEOUT,
      input: "from stdin [[fake:tokens=2]]\n",
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("System: Be brief.");
    expect(result.stdout).toContain("User: from stdin");
    await waitForNoChats(cookie);
  });

  it("--json: token lines, then the server's final message", async () => {
    const cookie = await userCookie();
    const result = await runCli(["chat", "--json", "json please [[fake:tokens=3]]", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; text?: string; message?: { content: string; role: string; state: string } });
    const tokens = lines.filter((line) => line.type === "token");
    const last = lines.at(-1);
    expect(tokens.length).toBeGreaterThan(3);
    expect(last?.type).toBe("message");
    expect(last?.message?.role).toBe("assistant");
    expect(last?.message?.state).toBe("complete");
    expect(tokens.map((line) => line.text).join("")).toBe(last?.message?.content);
    expect(last?.message?.content).toContain("json please");
    await waitForNoChats(cookie);
  });

  it("sampling flags and --model go through to the real server", async () => {
    const cookie = await userCookie();
    const result = await runCli(
      [
        "chat",
        "--json",
        "--model",
        MODEL,
        "--temperature",
        "0.7",
        "--top-k",
        "none",
        "--top-p",
        "0.9",
        "--max-new-tokens",
        "64",
        "flags [[fake:tokens=1]]",
        ...site(),
        "--cookie",
        cookie,
      ],
      home,
      TIMEOUT,
    );
    expect(result.code).toBe(0);
    const last = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as {
      message: { work_parameters: { sampling_parameters: Record<string, number | null> } };
    };
    expect(last.message.work_parameters.sampling_parameters).toMatchObject({ temperature: 0.7, top_k: null, top_p: 0.9, max_new_tokens: 64 });
    await waitForNoChats(cookie);
  });

  it("--verbose: the request trail on stderr, cookie values never shown", async () => {
    const cookie = await userCookie();
    const result = await runCli(["chat", "--verbose", "trail [[fake:tokens=1]]", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("[oasst] cookies: next-auth.session-token (from --cookie)");
    expect(result.stderr).toMatch(/POST \S+\/api\/chat → 200/);
    expect(result.stderr).toMatch(/DELETE \S+\/api\/chat\?chat_id=\S+ → 200/);
    expect(result.stdout + result.stderr).not.toContain(tokenOf(cookie));
    await waitForNoChats(cookie);
  });

  it("an error event: exit 4, the server's text on stderr, and a JSON error line with --json; chats deleted", async () => {
    const cookie = await userCookie();
    const plain = await runCli(["chat", "boom [[fake:error]]", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(plain.code).toBe(4);
    expect(plain.stderr).toMatch(/^error: .*fake worker error/m);
    expect(plain.stderr).toMatch(/^hint: /m);
    const json = await runCli(["chat", "--json", "boom [[fake:error]]", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(json.code).toBe(4);
    const last = JSON.parse(json.stdout.trim().split("\n").at(-1)!) as { type: string; code: string; message: string; status: null };
    expect(last).toMatchObject({ type: "error", code: "stream", status: null });
    expect(last.message).toContain("fake worker error");
    await waitForNoChats(cookie);
  });

  it('a worker that drops its connection: exit 4, "Aborted due to worker error."', async () => {
    const cookie = await userCookie();
    const result = await runCli(["chat", "--json", "cut [[fake:disconnect]]", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(result.code).toBe(4);
    expect(result.stdout.trim().split("\n").at(-1)).toContain("Aborted due to worker error.");
    await waitForNoChats(cookie);
  });

  it("a session cookie the site does not accept: exit 2, auth error", async () => {
    const result = await runCli(["chat", "--json", "hi", ...site(), "--cookie", "next-auth.session-token=not-a-session"], home, TIMEOUT);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout.trim().split("\n").at(-1)!)).toMatchObject({ type: "error", code: "auth", status: 403 });
  });

  it("an unknown model: exit 1, the site's models listed in the hint; the chat is deleted", async () => {
    const cookie = await userCookie();
    const result = await runCli(["chat", "hi", "--model", "NoSuchModel", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("NoSuchModel");
    expect(result.stderr).toMatch(/^hint: .*OA_SFT_Llama_30B_6/m);
    await waitForNoChats(cookie);
  });

  it("SIGINT mid-reply: exit 130, the reply stops and its chat is deleted", async () => {
    const cookie = await userCookie();
    const child = spawnCli(["chat", "slow [[fake:tokens=200]] [[fake:delay=100]]", ...site(), "--cookie", cookie], home);
    child.stdin.end();
    const done = collect(child, 30_000);
    await waitForOutput(child, "You said:", 20_000);
    expect(await chatIds(cookie)).toHaveLength(1);
    child.kill("SIGINT");
    const result = await done;
    expect(result.code).toBe(130);
    await waitForNoChats(cookie);
  });
});

describe("oasst models", () => {
  it("the table of models and presets", async () => {
    const result = await runCli(["models", ...site(), "--cookie", await userCookie()], home, TIMEOUT);
    expect(result.code).toBe(0);
    // The real stack's models have no description: no empty DESCRIPTION column.
    expect(result.stdout).toMatch(/^NAME\s+PRESETS$/m);
    expect(result.stdout).toMatch(new RegExp(`^${MODEL}\\s+.*k50`, "m"));
    expect(result.stdout).toMatch(/^PRESET\s+TOP_K\s+TOP_P/m);
  });

  it("--json: the server's list", async () => {
    const result = await runCli(["models", "--json", ...site(), "--cookie", await userCookie()], home, TIMEOUT);
    expect(result.code).toBe(0);
    const models = JSON.parse(result.stdout) as Array<{ name: string; parameter_configs: unknown[] }>;
    expect(models.map((model) => model.name)).toContain(MODEL);
    expect(models[0]?.parameter_configs.length).toBeGreaterThan(0);
  });
});

describe("oasst chats", () => {
  it("lists nothing for a new user", async () => {
    const result = await runCli(["chats", ...site(), "--cookie", await userCookie()], home, TIMEOUT);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe("No chats.");
  });

  it("lists chats left on the site (table and --json), deletes some with --delete, the rest with --delete-all --yes", async () => {
    const cookie = await userCookie();
    const [first, second, third] = await leaveChats(cookie, ["first chat", "second chat", "third chat"]);
    const table = await runCli(["chats", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+CREATED/m);
    for (const id of [first, second, third]) expect(table.stdout).toContain(id);
    expect(table.stdout).toContain("first chat");

    const json = await runCli(["chats", "--json", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as Array<{ id: string }>).map((chat) => chat.id).sort()).toEqual([first, second, third].sort());

    const deleted = await runCli(["chats", "--delete", first!, ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout.trim()).toBe(`deleted ${first}`);
    expect((await chatIds(cookie)).sort()).toEqual([second, third].sort());

    const refused = await runCli(["chats", "--delete-all", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(refused.code).toBe(1);
    expect(await chatIds(cookie)).toHaveLength(2);

    const all = await runCli(["chats", "--delete-all", "--yes", "--json", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ failed: [] });
    expect((JSON.parse(all.stdout) as { deleted: string[] }).deleted.sort()).toEqual([second, third].sort());
    await waitForNoChats(cookie);
  });

  it("--delete of a chat that is not there (the real site answers 500): the others are still deleted, exit 4", async () => {
    const cookie = await userCookie();
    const [there] = await leaveChats(cookie, ["a chat"]);
    const missing = "01a23de4-faf2-7d55-a888-c4b775f0435f";
    const result = await runCli(["chats", "--delete", missing, there!, "--json", ...site(), "--cookie", cookie], home, TIMEOUT);
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stdout)).toEqual({ deleted: [there], failed: [missing] });
    expect(result.stderr).toMatch(/^error: DELETE \/api\/chat failed \(HTTP 500/m);
    await waitForNoChats(cookie);
  });
});

describe("oasst cookies, and cookies from files", () => {
  it("reports the session cookie of OASST_COOKIES by name, never its value", async () => {
    const cookie = await userCookie();
    const result = await runCli(["cookies", "127.0.0.1", "--json"], home, { ...TIMEOUT, env: { OASST_COOKIES: cookie } });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { domain: string; cookies: Array<{ source: string; name: string }> };
    expect(report.domain).toBe("127.0.0.1");
    expect(report.cookies).toEqual([expect.objectContaining({ source: "OASST_COOKIES", name: "next-auth.session-token" })]);
    expect(result.stdout + result.stderr).not.toContain(tokenOf(cookie));
  });

  it("a cookies.txt in the cookies folder: `oasst cookies` finds it and `oasst chat` logs in with it", async () => {
    const cookie = await userCookie();
    const dir = join(home.configDir, "oasst", "cookies");
    await mkdir(dir, { recursive: true });
    const expires = Math.floor(Date.now() / 1000) + 3600;
    await writeFile(
      join(dir, "cookies.txt"),
      `# Netscape HTTP Cookie File\n#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t${expires}\tnext-auth.session-token\t${tokenOf(cookie)}\n`,
    );

    const report = await runCli(["cookies", "127.0.0.1"], home, TIMEOUT);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain("next-auth.session-token");
    expect(report.stdout).not.toContain(tokenOf(cookie));

    const chat = await runCli(["chat", "from the cookie file [[fake:tokens=1]]", ...site()], home, TIMEOUT);
    expect(chat.stderr).toBe("");
    expect(chat.code).toBe(0);
    expect(chat.stdout).toContain("from the cookie file");

    const byPath = await runCli(["chats", "--cookies-file", join(dir, "cookies.txt"), ...site()], home, TIMEOUT);
    expect(byPath.code).toBe(0);
    expect(byPath.stdout.trim()).toBe("No chats.");
    await waitForNoChats(cookie);
  });

  it("the config file's baseUrl and cookies", async () => {
    const cookie = await userCookie();
    await home.writeConfig({ baseUrl: realStack().website, cookies: cookie, model: MODEL });
    const result = await runCli(["chat", "from the config [[fake:tokens=1]]"], home, TIMEOUT);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("from the config");
    await waitForNoChats(cookie);
  });
});
