/** Configuration, highest first: flags, environment, config file. Child processes against the emulator. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { startConnectProxy, type TestProxy } from "../helpers/proxy-servers.js";
import { assertBuilt, makeTempHome, runCli, type TempHome } from "./cli-harness.js";

let server: Emulator;
let home: TempHome;
const proxies: TestProxy[] = [];

function lastAssistantRequest(): Record<string, unknown> {
  const request = server.requests.filter((r) => r.path === "/api/chat/assistant_message").at(-1);
  if (!request) throw new Error("no assistant_message request");
  return JSON.parse(request.body) as Record<string, unknown>;
}

async function proxy(): Promise<TestProxy> {
  const started = await startConnectProxy();
  proxies.push(started);
  return started;
}

beforeAll(async () => {
  assertBuilt();
  server = await startEmulator({ quiet: true });
});
afterAll(() => server.stop());
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await home.remove();
});

describe("the config file", () => {
  it("gives the defaults: base URL, cookies, model, sampling keys, timeout", async () => {
    await home.writeConfig({
      baseUrl: server.url,
      cookies: { [server.cookieName]: server.sessionToken },
      model: "OA_SFT_Llama_30B_7",
      temperature: 0.2,
      top_k: null,
      max_new_tokens: 4,
      timeout: "30s",
    });
    const result = await runCli(["chat", "--verbose", "Hi"], home);
    expect(result.code).toBe(0);
    expect(lastAssistantRequest()).toMatchObject({
      model_config_name: "OA_SFT_Llama_30B_7",
      sampling_parameters: { temperature: 0.2, top_k: null, max_new_tokens: 4 },
    });
    expect(result.stderr).toContain(`[oasst] base URL: ${server.url}/ (from ${join(home.configDir, "oasst", "config.json")})`);
    expect(result.stderr).toContain("[oasst] timeout: 30000 ms");
  });

  it("ranks below the environment, which ranks below the flags", async () => {
    await home.writeConfig({ baseUrl: "http://127.0.0.1:9", cookies: "wrong=cookie-value", model: "from-config", temperature: 0.2 });
    const env = { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie, OASST_MODEL: "OA_SFT_Llama_30B_6" };
    const fromEnv = await runCli(["chat", "Hi"], home, { env });
    expect(fromEnv.code).toBe(0);
    expect(lastAssistantRequest()).toMatchObject({ model_config_name: "OA_SFT_Llama_30B_6", sampling_parameters: { temperature: 0.2 } });

    const fromFlags = await runCli(["chat", "--model", "_lorem", "--temperature", "0.9", "--cookie", server.cookie, "Hi"], home, {
      env: { ...env, OASST_COOKIES: "wrong=cookie-value" },
    });
    expect(fromFlags.code).toBe(0);
    expect(lastAssistantRequest()).toMatchObject({ model_config_name: "_lorem", sampling_parameters: { temperature: 0.9 } });
  });

  it("is a usage error when it is not JSON, naming the file and the problem", async () => {
    const path = await home.writeConfig('{"model": "x",}');
    const requestsBefore = server.requests.length;
    const result = await runCli(["chat", "Hi"], home, { env: { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie } });
    expect(result.code).toBe(1);
    const [cause, fix] = result.stderr.trimEnd().split("\n");
    expect(cause).toMatch(new RegExp(`^error: The config file ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not valid JSON: .*JSON`));
    expect(fix).toMatch(/^hint: Fix the JSON/);
    expect(server.requests).toHaveLength(requestsBefore);
  });

  it.each([
    [{ modle: "x" }, /unknown key "modle"/, /Known keys: baseUrl, model/],
    [{ temperature: "hot" }, /temperature in .*config\.json must be a number, not "hot"/, /Use a number at least 0/],
    [{ timeout: -3 }, /timeout in .*config\.json must be a positive duration/, /Give seconds/],
    [{ browser: "netscape" }, /browser in .*config\.json must be one of firefox/, /"browser": "firefox"/],
    [{ cookies: ["a"] }, /cookies in .*config\.json must be a Cookie header string or an object/, /"cookies": "name=value; …"/],
    [[1, 2], /must hold a JSON object/, /Write it as/],
  ])("is a usage error for %j", async (config, cause, fix) => {
    await home.writeConfig(config);
    const result = await runCli(["chat", "Hi"], home, { env: { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie } });
    expect(result.code).toBe(1);
    const [causeLine, fixLine] = result.stderr.trimEnd().split("\n");
    expect(causeLine).toMatch(cause);
    expect(fixLine).toMatch(fix);
  });

  it("does not matter when absent", async () => {
    const result = await runCli(["chat", "Hi"], home, { env: { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie } });
    expect(result.code).toBe(0);
  });
});

describe("the proxy", () => {
  it("comes from the config file when nothing else names one", async () => {
    const tunnel = await proxy();
    await home.writeConfig({ proxy: tunnel.url });
    const result = await runCli(["chat", "Hi"], home, { env: { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie } });
    expect(result.code).toBe(0);
    expect(tunnel.log.targets.length).toBeGreaterThan(0);
  });

  it("from HTTP_PROXY outranks the config file's", async () => {
    const [fromConfig, fromEnv] = [await proxy(), await proxy()];
    await home.writeConfig({ proxy: fromConfig.url });
    const result = await runCli(["chat", "Hi"], home, { env: { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie, HTTP_PROXY: fromEnv.url } });
    expect(result.code).toBe(0);
    expect(fromEnv.log.targets.length).toBeGreaterThan(0);
    expect(fromConfig.log.targets).toHaveLength(0);
  });

  it("from OASST_PROXY outranks HTTP_PROXY, and --proxy outranks both", async () => {
    const [standard, oasst, flag] = [await proxy(), await proxy(), await proxy()];
    const env = { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie, HTTP_PROXY: standard.url, OASST_PROXY: oasst.url };
    expect((await runCli(["chat", "Hi"], home, { env })).code).toBe(0);
    expect(oasst.log.targets.length).toBeGreaterThan(0);
    expect((await runCli(["chat", "--proxy", flag.url, "Hi"], home, { env })).code).toBe(0);
    expect(flag.log.targets.length).toBeGreaterThan(0);
    expect(standard.log.targets).toHaveLength(0);
  });
});

describe("the cookies", () => {
  it("are read from --cookies-file (a Netscape cookies.txt)", async () => {
    const file = join(home.dir, "cookies.txt");
    await writeFile(file, `# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\t${server.cookieName}\t${server.sessionToken}\n`);
    const result = await runCli(["chat", "--cookies-file", file, "--verbose", "Hi"], home, {
      env: { OASST_BASE_URL: server.url, OASST_COOKIES: "wrong=cookie-value" },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`[oasst] cookies: ${server.cookieName} (from --cookies-file ${file})`);
    expect(result.stderr).not.toContain(server.sessionToken);
  });

  it("from --cookie that hold no pair are a usage error", async () => {
    const result = await runCli(["chat", "--cookie", "garbage", "Hi"], home, { env: { OASST_BASE_URL: server.url } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: --cookie holds no name=value cookie\nhint: /);
  });
});
