import { describe, expect, it } from "vitest";
import { parseProxyUrl, proxyFromEnv } from "../../src/client/proxy.js";
import { ConfigError } from "../../src/errors.js";

const target = new URL("https://open-assistant.io/api/chat");

describe("proxyFromEnv", () => {
  it("takes HTTPS_PROXY for https, HTTP_PROXY for http, ALL_PROXY otherwise", () => {
    const env = { HTTPS_PROXY: "http://s:1", HTTP_PROXY: "http://p:2", ALL_PROXY: "socks5h://a:3" };
    expect(proxyFromEnv(target, env)).toBe("http://s:1");
    expect(proxyFromEnv(new URL("http://example.org"), env)).toBe("http://p:2");
    expect(proxyFromEnv(target, { ALL_PROXY: "socks5h://a:3" })).toBe("socks5h://a:3");
    expect(proxyFromEnv(target, {})).toBeUndefined();
  });

  it("prefers lower-case names, as curl does", () => {
    expect(proxyFromEnv(target, { https_proxy: "http://lower:1", HTTPS_PROXY: "http://upper:1" })).toBe("http://lower:1");
  });

  it("honours NO_PROXY: hosts, domain suffixes, ports and *", () => {
    const env = { HTTPS_PROXY: "http://s:1", HTTP_PROXY: "http://s:1" };
    expect(proxyFromEnv(target, { ...env, NO_PROXY: "open-assistant.io" })).toBeUndefined();
    expect(proxyFromEnv(target, { ...env, NO_PROXY: ".assistant.io" })).toBe("http://s:1");
    expect(proxyFromEnv(target, { ...env, NO_PROXY: "localhost, .open-assistant.io" })).toBeUndefined();
    expect(proxyFromEnv(new URL("https://api.open-assistant.io"), { ...env, NO_PROXY: "open-assistant.io" })).toBeUndefined();
    expect(proxyFromEnv(target, { ...env, NO_PROXY: "open-assistant.io:8443" })).toBe("http://s:1");
    expect(proxyFromEnv(new URL("http://127.0.0.1:9"), { ...env, no_proxy: "*" })).toBeUndefined();
  });
});

describe("parseProxyUrl", () => {
  it("accepts the four schemes", () => {
    for (const url of ["http://h:1", "https://h:1", "socks5://h:1", "socks5h://u:p@h:1"]) expect(() => parseProxyUrl(url)).not.toThrow();
  });

  it("refuses others without showing the password", () => {
    try {
      parseProxyUrl("ftp://user:hunter22@h:1");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).not.toContain("hunter22");
      expect(String((error as Error).message)).toContain("socks5h://");
    }
    expect(() => parseProxyUrl("not a url :pw@")).toThrow(ConfigError);
  });
});
