/** `oasst models`, `oasst chats`, `--help` and `--version`: child processes against the emulator. */
import { readFile } from "node:fs/promises";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OpenAssistantClient } from "../../src/client/client.js";
import type { Emulator } from "../../src/emulator/emulator.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import { assertBuilt, makeTempHome, runCli, type TempHome, emulatorPool, serverEnv } from "./cli-harness.js";

let home: TempHome;
const emulators = emulatorPool();
const emulator = emulators.start;

/** Chats left on the server, as a browser session would leave them: each with its first prompt as title. */
async function createChats(server: Emulator, prompts: string[]): Promise<string[]> {
  const client = new OpenAssistantClient({ baseUrl: server.url, cookies: server.cookies });
  try {
    const ids: string[] = [];
    for (const prompt of prompts) {
      const chat = await client.createChat();
      await client.postPrompterMessage({ chat_id: chat.id, parent_id: null, content: prompterContent([{ role: "user", content: prompt }]) });
      ids.push(chat.id);
    }
    return ids;
  } finally {
    await client.close();
  }
}

beforeAll(() => assertBuilt());
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await emulators.stopAll();
  await home.remove();
});

describe("oasst models", () => {
  it("prints a table of names and presets (no DESCRIPTION column when every description is empty), then the presets' values", async () => {
    const server = await emulator({ models: ["OA_SFT_Llama_30B_6", "_lorem"] });
    const result = await runCli(["models"], home, { env: serverEnv(server) });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^NAME +PRESETS$/);
    expect(lines.filter((line) => /^(OA_SFT_Llama_30B_6|_lorem) +k50, k50-Creative/.test(line))).toHaveLength(2);
    expect(result.stdout).toMatch(/^PRESET +TOP_K +TOP_P +TYPICAL_P +TEMPERATURE +REPETITION_PENALTY +MAX_NEW_TOKENS +DESCRIPTION$/m);
    expect(result.stdout).toMatch(/^k50 +50 +0\.95 +- +0\.75 +1\.2 +1024 +Top-k sampling with k=50$/m);
    expect(result.stdout).toMatch(/^typical2 +- +- +0\.2 +0\.8 +1\.2 +1024 +Typical sampling with p=0\.2$/m);
    expect(result.stdout).not.toContain("\x1b[");
  });

  it("--json prints the server's list", async () => {
    const server = await emulator({ models: ["OA_SFT_Llama_30B_6", "_lorem"] });
    const result = await runCli(["models", "--json"], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    const models = JSON.parse(result.stdout) as Array<{ name: string; parameter_configs: unknown[] }>;
    expect(models.map((model) => model.name).sort()).toEqual(["OA_SFT_Llama_30B_6", "_lorem"]);
    expect(models[0]?.parameter_configs).toHaveLength(8);
  });

  it("exits 2 with the cause and the fix when the session is refused", async () => {
    const server = await emulator({ faults: ["auth"] });
    const result = await runCli(["models"], home, { env: serverEnv(server) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: GET \/api\/chat\/models was refused \(HTTP 403\).*\nhint: \S/);
  });
});

describe("oasst chats", () => {
  it("lists the chats with their first prompt as title", async () => {
    const server = await emulator();
    const ids = await createChats(server, ["First question", "Second\nquestion"]);
    const result = await runCli(["chats"], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ID +CREATED +TITLE$/m);
    expect(result.stdout).toMatch(new RegExp(`^${ids[0]} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC +First question$`, "m"));
    expect(result.stdout).toMatch(new RegExp(`^${ids[1]} +.* UTC +Second question$`, "m"));
  });

  it("--json prints the chats as the server sends them", async () => {
    const server = await emulator();
    const ids = await createChats(server, ["a", "b", "c"]);
    const result = await runCli(["chats", "--json"], home, { env: serverEnv(server) });
    const chats = JSON.parse(result.stdout) as Array<{ id: string }>;
    expect(chats.map((chat) => chat.id).sort()).toEqual([...ids].sort());
  });

  it("says so when there are none", async () => {
    const server = await emulator();
    const result = await runCli(["chats"], home, { env: serverEnv(server) });
    expect(result.stdout).toBe("No chats.\n");
  });

  it("--delete ID deletes that chat only", async () => {
    const server = await emulator();
    const [keep, drop] = await createChats(server, ["keep", "drop"]);
    const result = await runCli(["chats", "--delete", drop ?? ""], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`deleted ${drop}\n`);
    const left = JSON.parse((await runCli(["chats", "--json"], home, { env: serverEnv(server) })).stdout) as Array<{ id: string }>;
    expect(left.map((chat) => chat.id)).toEqual([keep]);
  });

  it("--delete-all refuses to ask without a terminal, and deletes nothing", async () => {
    const server = await emulator();
    await createChats(server, ["a", "b"]);
    const result = await runCli(["chats", "--delete-all"], home, { env: serverEnv(server) });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "error: --delete-all asks for confirmation, but stdin is not a terminal\nhint: Add --yes to delete every chat without the question.\n",
    );
    expect(server.liveChats()).toBe(2);
  });

  it("--delete-all --yes deletes every chat, over several pages", async () => {
    const server = await emulator();
    const ids = await createChats(
      server,
      Array.from({ length: 25 }, (_, i) => `prompt ${i}`),
    );
    const result = await runCli(["chats", "--delete-all", "--yes", "--json"], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { deleted: string[]; failed: string[] };
    expect(report.deleted.sort()).toEqual([...ids].sort());
    expect(report.failed).toEqual([]);
    expect(server.liveChats()).toBe(0);
  });

  it("--delete with an unknown id: the hint says the chat is unknown or not this account's, and names oasst chats", async () => {
    const server = await emulator();
    const result = await runCli(["chats", "--delete", "bad-id"], home, { env: serverEnv(server) });
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      "error: DELETE /api/chat failed (HTTP 500: Internal Server Error)\n" +
        "hint: Chat bad-id is unknown, already deleted or not this account's (or the server failed): `oasst chats` lists your chats and their ids.\n",
    );
  });

  it("exits 4 when the server fails to delete", async () => {
    const server = await emulator({ faults: ["delete-500"] });
    const [id] = await createChats(server, ["a"]);
    const result = await runCli(["chats", "--delete", id ?? ""], home, { env: serverEnv(server) });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^error: DELETE \/api\/chat failed \(HTTP 500.*\nhint: \S/);
  });
});

describe("help and version", () => {
  it("--version prints the package version", async () => {
    const { version } = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    const result = await runCli(["--version"], home);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it.each(["chat", "models", "chats"])("oasst %s --help lists the flags and examples", async (command) => {
    const result = await runCli([command, "--help"], home);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: oasst ${command}`);
    expect(result.stdout).toContain("--base-url <url>");
    expect(result.stdout).toContain("--verbose");
    expect(result.stdout).toMatch(new RegExp(`Examples:\\n {2}\\$ oasst ${command}`));
  });

  it("oasst chat --help names every chat flag", async () => {
    const result = await runCli(["chat", "--help"], home);
    for (const flag of ["--model", "--system", "--json", "--cookie", "--cookies-file", "--browser", "--profile", "--proxy", "--timeout"]) {
      expect(result.stdout).toContain(flag);
    }
    for (const flag of ["--temperature", "--top-k", "--top-p", "--typical-p", "--repetition-penalty", "--max-new-tokens"]) {
      expect(result.stdout).toContain(flag);
    }
  });

  it("oasst serve --help says the openai client needs OPENAI_API_KEY", async () => {
    const result = await runCli(["serve", "--help"], home);
    expect(result.stdout).toMatch(/OPENAI_BASE_URL=http:\/\/127\.0\.0\.1:1337\/v1 OPENAI_API_KEY=/);
  });

  it("oasst --help lists the commands with examples", async () => {
    const result = await runCli(["--help"], home);
    for (const command of ["chat", "models", "chats", "emulate"]) expect(result.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, "m"));
    expect(result.stdout).toContain("Examples:");
  });
});
