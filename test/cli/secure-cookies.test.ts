/**
 * The CLI with a plain http:// base URL and a Secure session cookie (issue 17, item 1):
 * exit 1 before any connection, the error says why and names --base-url https://…
 * Every run goes through a "proxy" that only counts connections: zero means nothing was sent.
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { prompterContent } from "../../src/provider/format-prompt.js";
import { assertBuilt, emulatorPool, makeTempHome, runCli, type TempHome } from "./cli-harness.js";
import { listenLocal } from "../helpers/local-server.js";

const SESSION = "__Secure-next-auth.session-token";
const VALUE = "secure-cookie-value-1234";
const HTTP_URL = "http://open-assistant.test";
const HTTPS_FIX = "Pass --base-url https://open-assistant.test/";

let home: TempHome;
let proxy: { url: string; connections: () => number; close(): Promise<void> };
const emulators = emulatorPool();

/** A TCP server that counts connections and closes them. */
async function countingProxy(): Promise<typeof proxy> {
  let connections = 0;
  const server = await listenLocal(
    createServer((socket) => {
      connections++;
      socket.destroy();
    }),
  );
  return { url: server.url, connections: () => connections, close: server.close };
}

beforeAll(() => assertBuilt());
beforeEach(async () => {
  home = await makeTempHome();
  proxy = await countingProxy();
});
afterEach(async () => {
  await emulators.stopAll();
  await proxy.close();
  await home.remove();
});

function expectRefusedBeforeSending(result: { code: number | null; stderr: string; stdout: string }, from: string, secure: string): void {
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(
    `error: The session cookie ${from} ${secure}, and the base URL http://open-assistant.test/ is plain http: the cookie would travel unencrypted, so nothing was sent\n`,
  );
  expect(result.stderr).toContain(`hint: ${HTTPS_FIX}`);
  expect(result.stdout + result.stderr).not.toContain(VALUE);
  expect(proxy.connections()).toBe(0);
}

describe("an http:// base URL and a Secure session cookie: exit 1, nothing sent", () => {
  it("--cookie, for chat and models", async () => {
    for (const command of [["chat", "Hi"], ["models"]]) {
      const result = await runCli([...command, "--base-url", HTTP_URL, "--proxy", proxy.url, "--cookie", `${SESSION}=${VALUE}`], home);
      expectRefusedBeforeSending(result, `${SESSION} from --cookie`, "is Secure (its name starts with __Secure-)");
      expect(result.stderr).toContain(`hint: ${HTTPS_FIX}. Browsers send Secure cookies only over https (or to localhost).\n`);
    }
  });

  it("OASST_COOKIES with OASST_BASE_URL: the hint says where the http:// URL came from", async () => {
    const result = await runCli(["chat", "Hi"], home, {
      env: { OASST_BASE_URL: HTTP_URL, OASST_COOKIES: `${SESSION}=${VALUE}; other=1`, OASST_PROXY: proxy.url },
    });
    expectRefusedBeforeSending(result, `${SESSION} from OASST_COOKIES`, "is Secure (its name starts with __Secure-)");
    expect(result.stderr).toContain(`hint: ${HTTPS_FIX} (the http:// URL came from OASST_BASE_URL).`);
  });

  it("the config file's cookies and base URL", async () => {
    const config = await home.writeConfig({ baseUrl: HTTP_URL, cookies: { [SESSION]: VALUE }, proxy: proxy.url });
    const result = await runCli(["chat", "Hi"], home);
    expectRefusedBeforeSending(result, `${SESSION} from ${config}`, "is Secure (its name starts with __Secure-)");
    expect(result.stderr).toContain(`(the http:// URL came from ${config})`);
  });

  it("--cookies-file whose session cookie is marked Secure (no prefix)", async () => {
    const file = join(home.dir, "cookies.txt");
    writeFileSync(file, `open-assistant.test\tFALSE\t/\tTRUE\t4102444800\tnext-auth.session-token\t${VALUE}\n`);
    const result = await runCli(["chat", "Hi", "--base-url", HTTP_URL, "--proxy", proxy.url, "--cookies-file", file], home);
    expectRefusedBeforeSending(result, `next-auth.session-token from cookies file ${file}`, "is marked Secure");
  });

  it("other Secure cookies are left out, a plain session cookie is used (--verbose names only the cookies sent)", async () => {
    const result = await runCli(
      ["chat", "Hi", "--verbose", "--base-url", HTTP_URL, "--proxy", proxy.url, "--cookie", `next-auth.session-token=${VALUE}; __Host-csrf=c; other=1`],
      home,
    );
    expect(result.stderr).toContain("[oasst] cookies: next-auth.session-token, other (from --cookie)\n");
    // The request went out (to the counting proxy, which hangs up).
    expect(proxy.connections()).toBeGreaterThan(0);
  });
});

it("a loopback http:// site gets its __Secure- session cookie, as browsers send it to localhost", async () => {
  const server = await emulators.start({ secureCookie: true, replyTokens: 3 });
  expect(server.cookie.startsWith(`${SESSION}=`)).toBe(true);
  const result = await runCli(["chat", "Hi", "--base-url", server.url, "--cookie", server.cookie], home);
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(`${server.expectedReply(prompterContent([{ role: "user", content: "Hi" }]))}\n`);
});
