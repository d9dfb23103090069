/**
 * A proxy token in the user-name position (`http://TOKEN@host:port`, as proxy services
 * take API tokens) is masked like a password (issue 17, item 5): in redactUrl, in the
 * proxy's errors, in the provider's errors, and in the CLI's --verbose and error output,
 * for http and socks5 proxies. A user name next to a password stays visible.
 */
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProxyUrl } from "../../src/client/proxy.js";
import { ConfigError, ConnectionError } from "../../src/errors.js";
import { OpenAssistant } from "../../src/index.js";
import { redactUrl } from "../../src/redact.js";
import { assertBuilt, makeTempHome, runCli, type TempHome } from "../cli/cli-harness.js";
import { closedPort } from "../helpers/closed-port.js";

const TOKEN = "tok_5f3a9c0d7e21b8aa";
const SCHEMES = ["http", "socks5"] as const;

describe("redactUrl", () => {
  it("masks a user name that stands alone, for every scheme; keeps one next to a password", () => {
    expect(redactUrl(`http://${TOKEN}@proxy.example:8080`)).toBe("http://***@proxy.example:8080/");
    expect(redactUrl(`socks5://${TOKEN}@127.0.0.1:1080`)).toBe("socks5://***@127.0.0.1:1080");
    expect(redactUrl(`https://${TOKEN}:@proxy.example`)).toBe("https://***@proxy.example/");
    expect(redactUrl(`http://alice:${TOKEN}@proxy.example:8080`)).toBe("http://alice:***@proxy.example:8080/");
    expect(redactUrl("http://proxy.example:8080")).toBe("http://proxy.example:8080/");
  });
});

describe("errors of a token-only proxy URL", () => {
  it("parseProxyUrl: an unsupported scheme names the URL with the token masked", () => {
    const error = (() => {
      try {
        parseProxyUrl(`ftp://${TOKEN}@127.0.0.1:2121`);
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.summary).toBe("The proxy scheme ftp is not supported (ftp://***@127.0.0.1:2121/)");
  });

  it.each(SCHEMES)("the provider through a %s proxy that is not there: no token in the error, its causes or its inspection", async (scheme) => {
    const port = await closedPort();
    const error = await OpenAssistant.createAsync("model", [{ role: "user", content: "Hi" }], {
      baseUrl: "http://127.0.0.1:9",
      cookies: "next-auth.session-token=s",
      proxy: `${scheme}://${TOKEN}@127.0.0.1:${port}`,
      env: {},
      timeout: 5_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(`${String(error)}\n${inspect(error, { depth: 10 })}`).not.toContain(TOKEN);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("the CLI", () => {
  let home: TempHome;
  beforeAll(async () => {
    assertBuilt();
    home = await makeTempHome();
  });
  afterAll(() => home.remove());

  it.each(SCHEMES)("--verbose and the error, through a %s proxy given by flag and by environment", async (scheme) => {
    const port = await closedPort();
    const proxy = `${scheme}://${TOKEN}@127.0.0.1:${port}`;
    const shown = redactUrl(proxy);
    expect(shown).toContain("://***@127.0.0.1:");
    const base = ["chat", "Hi", "--verbose", "--base-url", "http://127.0.0.1:9", "--cookie", "next-auth.session-token=s", "--timeout", "5000"];
    const runs = [
      { result: await runCli([...base, "--proxy", proxy], home), from: "--proxy" },
      { result: await runCli(base, home, { env: { HTTP_PROXY: proxy } }), from: "HTTP_PROXY" },
    ];
    for (const { result, from } of runs) {
      expect(result.code).toBe(5);
      expect(result.stderr).toContain(`[oasst] proxy: ${shown} (from ${from})\n`);
      expect(result.stderr).toMatch(/^error: /m);
      expect(result.stdout + result.stderr).not.toContain(TOKEN);
      // The error names where the proxy came from: a forgotten HTTP_PROXY is a common cause.
      expect(result.stderr).toMatch(new RegExp(`^hint: The request went through the proxy ${escapeRegExp(shown)} from ${from}[ .]`, "m"));
    }
    expect(runs[1]?.result.stderr).toContain("(unset HTTP_PROXY, or list the host in NO_PROXY, to connect directly)");
  });

  it("a proxy URL the CLI refuses (unsupported scheme) is shown with the token masked", async () => {
    const result = await runCli(["models", "--proxy", `ftp://${TOKEN}@127.0.0.1:2121`, "--cookie", "next-auth.session-token=s"], home);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error: The proxy scheme ftp is not supported (ftp://***@127.0.0.1:2121/)\n");
    expect(result.stderr).not.toContain(TOKEN);
  });
});
