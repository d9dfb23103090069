/**
 * Cookies go only to the configured origin. A redirect to another host, or from
 * https to http, is never followed (the error says why), and nothing reaches the
 * redirect's target. Through a proxy, cookies for an https site travel only inside
 * the TLS tunnel: a tap in front of the proxy records every byte the proxy receives
 * and never sees the session token. The https site is the emulator behind a TLS front
 * with a throwaway self-signed certificate; the provider's own connection pool trusts
 * it in a child process started with NODE_EXTRA_CA_CERTS.
 */
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it, type OnTestFinishedHandler } from "vitest";
import { OpenAssistant, ProtocolError, type Messages, type OpenAssistantWarning } from "../../src/index.js";
import { startEmulator, type Emulator } from "../../src/emulator/index.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import { startConnectProxy, startSocks5Proxy } from "../helpers/proxy-servers.js";
import { assertBuilt, chatInChild } from "./helpers/child.js";
import { failFirst, startFlakyFront } from "./helpers/flaky-front.js";
import { collectUnhandled, flushUnhandled } from "./helpers/leak-check.js";
import { runCli } from "./helpers/run-cli.js";
import { hasOpenssl, makeCertificate, startHttpsRedirect, startRecorder, startTap, startTlsFront, type TestCertificate } from "./helpers/servers.js";

const MODEL = "OA_SFT_Llama_30B_6";
const messages: Messages = [{ role: "user", content: "Where do my cookies go?" }];
const tls = hasOpenssl();

let certificate: TestCertificate | undefined;
const unhandled = collectUnhandled();
beforeAll(() => {
  assertBuilt();
  if (tls) certificate = makeCertificate();
});
afterAll(async () => {
  certificate?.remove();
  await flushUnhandled();
  unhandled.dispose();
  expect(unhandled.rejections).toEqual([]);
});

/**
 * The test context's onTestFinished: the tests run at once (describe.concurrent), and each stops what it
 * started when it ends, the last registered first (vitest runs these hooks in reverse order).
 */
type Cleanup = (stop: OnTestFinishedHandler) => void;

async function emulator(cleanup: Cleanup): Promise<Emulator> {
  const server = await startEmulator({ quiet: true, replyTokens: 12 });
  cleanup(() => server.stop());
  return server;
}

function cert(): TestCertificate {
  if (!certificate) throw new Error("no certificate");
  return certificate;
}

describe.concurrent("redirects are never followed, so cookies never leave the configured origin", () => {
  it.for([301, 302, 303, 307, 308])("HTTP %i to another host: ProtocolError saying why; the other host gets nothing", async (status, { onTestFinished }) => {
    const server = await emulator(onTestFinished);
    const elsewhere = await startRecorder("127.0.0.2");
    onTestFinished(() => elsewhere.close());
    const front = await startFlakyFront(server.url, failFirst("/api/chat", 1, { status, headers: { location: `${elsewhere.url}/api/chat` } }));
    onTestFinished(() => front.close());
    const error = await OpenAssistant.createAsync(MODEL, messages, { baseUrl: front.url, cookies: server.cookies, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    const { summary, hint } = error as ProtocolError;
    expect(summary).toContain(`was redirected (HTTP ${status} to ${elsewhere.url}/api/chat)`);
    expect(summary).toContain("oasst does not follow redirects, so the session cookie never leaves the configured origin");
    expect(hint).toMatch(/final address as the base URL/);
    expect(elsewhere.hits).toEqual([]);
  });

  it("a redirect of the event stream or of the delete is not followed either; the failed delete is a warning", async ({ onTestFinished }) => {
    const server = await emulator(onTestFinished);
    const elsewhere = await startRecorder("127.0.0.2");
    onTestFinished(() => elsewhere.close());
    const front = await startFlakyFront(server.url, (req, path) =>
      path === "/api/chat/events" || req.method === "DELETE" ? { status: 307, headers: { location: `${elsewhere.url}${req.url ?? ""}` } } : undefined,
    );
    onTestFinished(() => front.close());
    const warnings: OpenAssistantWarning[] = [];
    const error = await OpenAssistant.createAsync(MODEL, messages, {
      baseUrl: front.url,
      cookies: server.cookies,
      env: {},
      onWarning: (w) => warnings.push(w),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).summary).toMatch(/^POST \/api\/chat\/events was redirected \(HTTP 307 to http:\/\/127\.0\.0\.2:\d+\/api\/chat\/events\)/);
    // The reply was queued and never read: the delete waited until the server had finished it (its state read
    // from /api/chat/message, which is not redirected), then was refused a redirect too.
    expect(warnings.map((w) => w.code)).toEqual(["reply_still_running", "chat_not_deleted"]);
    expect(warnings[1]!.message).toMatch(/could not be deleted after the failure above: DELETE \/api\/chat was redirected/);
    expect(elsewhere.hits).toEqual([]);
  });

  it.runIf(tls)("https → http: not followed, the error names the http target; the http server gets nothing (a caller's fetch)", async ({ onTestFinished }) => {
    const plain = await startRecorder();
    onTestFinished(() => plain.close());
    const secure = await startHttpsRedirect(cert(), `${plain.url}/`);
    onTestFinished(() => secure.close());
    const agent = new Agent({ connect: { ca: cert().cert } });
    onTestFinished(() => agent.close());
    const fetch = (url: string, init: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>;
    const error = await OpenAssistant.createAsync(MODEL, messages, {
      baseUrl: secure.url,
      cookies: "next-auth.session-token=tls-secret-1234",
      env: {},
      fetch,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).summary).toContain(`was redirected (HTTP 302 to ${plain.url}/api/chat)`);
    expect(secure.hits).toHaveLength(1);
    expect(plain.hits).toEqual([]);
  });

  it.runIf(tls)("https → http: not followed by the provider's own connection pool either (child process trusting the test CA)", async ({ onTestFinished }) => {
    const plain = await startRecorder();
    onTestFinished(() => plain.close());
    const secure = await startHttpsRedirect(cert(), `${plain.url}/`);
    onTestFinished(() => secure.close());
    const result = await chatInChild(
      { model: MODEL, messages, options: { baseUrl: secure.url, cookies: "next-auth.session-token=tls-secret-1234", env: {} } },
      { NODE_EXTRA_CA_CERTS: cert().certPath },
    );
    expect(result.error?.name).toBe("ProtocolError");
    expect(result.error?.summary).toContain(`was redirected (HTTP 302 to ${plain.url}/api/chat); oasst does not follow redirects`);
    expect(result.error?.inspected).not.toContain("tls-secret-1234");
    expect(secure.hits).toHaveLength(1);
    expect(plain.hits).toEqual([]);
  });
});

describe.runIf(tls).concurrent("through a proxy, cookies for https travel only inside the tunnel", () => {
  async function httpsSite(cleanup: Cleanup): Promise<{ server: Emulator; url: string }> {
    const server = await emulator(cleanup);
    const front = await startTlsFront(server.url, cert());
    cleanup(() => front.close());
    return { server, url: front.url };
  }

  it.for([
    ["an HTTP CONNECT proxy", "http", () => startConnectProxy("alice:proxy-pw-5678")],
    ["a socks5h proxy", "socks5h", () => startSocks5Proxy("bob:proxy-pw-5678")],
  ] as const)("%s: the proxy sees the handshake and ciphertext, never the cookie", async ([, scheme, start], { onTestFinished }) => {
    const { server, url } = await httpsSite(onTestFinished);
    const proxy = await start();
    onTestFinished(() => proxy.close());
    const tap = await startTap({ host: "127.0.0.1", port: Number(new URL(proxy.url).port) });
    onTestFinished(() => tap.close());
    const proxyUrl = `${scheme}://${new URL(proxy.url).username}:proxy-pw-5678@127.0.0.1:${tap.port}`;
    const result = await chatInChild(
      { model: MODEL, messages, options: { baseUrl: url, cookies: server.cookies, proxy: proxyUrl, env: {} } },
      { NODE_EXTRA_CA_CERTS: cert().certPath },
    );
    expect(result.error).toBeUndefined();
    expect(result.text).toBe(server.expectedReply(prompterContent(messages)));
    // The cookie did reach the site, on every request...
    expect(server.requests.length).toBeGreaterThanOrEqual(5);
    for (const request of server.requests) expect(request.headers.cookie).toBe(server.cookie);
    // ...and the proxy never saw it: not in the handshake, not in the tunnel.
    const seen = tap.bytes();
    expect(seen.length).toBeGreaterThan(1000);
    expect(seen.includes(server.sessionToken)).toBe(false);
    expect(seen.toString("latin1").toLowerCase()).not.toContain("cookie");
    expect(proxy.log.targets[0]).toMatch(/^localhost:\d+$/);
    if (scheme === "http") expect(proxy.log.handshakes[0]).toMatch(/^CONNECT localhost:\d+ HTTP\/1\.1\r\n/);
    expect(proxy.log.handshakes.join("\n")).not.toContain(server.sessionToken);
  });

  it("control: to a plain http site the cookie is visible in the tunnel, so the tap does see tunnel bytes", async ({ onTestFinished }) => {
    const server = await emulator(onTestFinished);
    const proxy = await startConnectProxy();
    onTestFinished(() => proxy.close());
    const tap = await startTap({ host: "127.0.0.1", port: Number(new URL(proxy.url).port) });
    onTestFinished(() => tap.close());
    const text = await OpenAssistant.createAsync(MODEL, messages, {
      baseUrl: server.url,
      cookies: server.cookies,
      proxy: `http://127.0.0.1:${tap.port}`,
      env: {},
    });
    expect(text).toBe(server.expectedReply(prompterContent(messages)));
    expect(tap.bytes().includes(server.sessionToken)).toBe(true);
  });

  it("the CLI through a CONNECT proxy to the https site: same reply, same silence", async ({ onTestFinished }) => {
    const { server, url } = await httpsSite(onTestFinished);
    const proxy = await startConnectProxy("carol:proxy-pw-5678");
    onTestFinished(() => proxy.close());
    const tap = await startTap({ host: "127.0.0.1", port: Number(new URL(proxy.url).port) });
    onTestFinished(() => tap.close());
    const result = await runCli(
      ["chat", "--base-url", url, "--cookie", server.cookie, "--proxy", `http://carol:proxy-pw-5678@127.0.0.1:${tap.port}`, "--verbose", messages[0]!.content],
      { env: { NODE_EXTRA_CA_CERTS: cert().certPath } },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${server.expectedReply(prompterContent(messages))}\n`);
    expect(result.stderr).toContain("proxy: http://carol:***@127.0.0.1:");
    expect(result.stderr).not.toContain("proxy-pw-5678");
    expect(result.stderr).not.toContain(server.sessionToken);
    expect(tap.bytes().includes(server.sessionToken)).toBe(false);
  });

  it("the CLI on an https site that redirects to http: exit 4, the reason on stderr, nothing sent to the http server", async ({ onTestFinished }) => {
    const plain = await startRecorder();
    onTestFinished(() => plain.close());
    const secure = await startHttpsRedirect(cert(), `${plain.url}/`);
    onTestFinished(() => secure.close());
    const result = await runCli(["chat", "--base-url", secure.url, "--cookie", "next-auth.session-token=tls-secret-1234", "Hi"], {
      env: { NODE_EXTRA_CA_CERTS: cert().certPath },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(
      /^error: POST \/api\/chat was redirected \(HTTP 302 to http:\/\/127\.0\.0\.1:\d+\/api\/chat\); oasst does not follow redirects/m,
    );
    expect(result.stderr).not.toContain("tls-secret-1234");
    expect(plain.hits).toEqual([]);
  });
});
