/**
 * No secret in any output. A session cookie value, a proxy password (with characters
 * URLs must encode) and an API key are planted; every fault is run, directly and
 * through proxies, and every output is searched for them (as is, percent-encoded,
 * base64): error messages, String(error), util.inspect(error) with its whole cause
 * chain (undici's errors included), warnings, the request trail, process warnings,
 * the CLI's stdout and stderr with --verbose and --json, and, in
 * gateway-fault-matrix.test.ts and bad-input.test.ts, the gateway's logs and answers.
 */
import { createServer } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi, type OnTestFinishedHandler } from "vitest";
import { OpenAssistant, type Messages, type OpenAssistantOptions } from "../../src/index.js";
import { FAULT_NAMES, startEmulator, type Emulator, type Fault } from "../../src/emulator/index.js";
import { startConnectProxy, startSocks5Proxy, type TestProxy } from "../helpers/proxy-servers.js";
import { listenLocal } from "../helpers/local-server.js";
import { assertBuilt } from "./helpers/child.js";
import { collectUnhandled, flushUnhandled } from "./helpers/leak-check.js";
import { mapLimit, runCli, runCliInProcess } from "./helpers/run-cli.js";
import { plantSecrets, proxyUrlWithPassword, SecretScanner } from "./helpers/secrets.js";
import { closedPort } from "./helpers/servers.js";

const MODEL = "OA_SFT_Llama_30B_6";
const messages: Messages = [{ role: "user", content: "Keep my secrets." }];
const secrets = plantSecrets();
const scanner = new SecretScanner(secrets);
const unhandled = collectUnhandled();

/**
 * The provider's warnings without an `onWarning` go to process.emitWarning: each is recorded (and
 * searched, in scanChat) instead of printed on the test run's stderr. Other warnings (a deprecation,
 * say) are recorded too, and still printed.
 */
const processWarnings: string[] = [];
const emitWarning = process.emitWarning.bind(process);
const warningSpy = vi.spyOn(process, "emitWarning").mockImplementation((warning: string | Error, ...rest: unknown[]) => {
  const options = rest[0];
  const code = typeof options === "object" && options !== null ? (options as { code?: string }).code : rest[1];
  processWarnings.push(`${String(code)} ${String(warning)} ${inspect(warning, { depth: Infinity })} ${inspect(rest, { depth: Infinity })}`);
  if (!String(code).startsWith("OASST_")) (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
});

// The tests of each describe run at once (each with its own servers and proxies), and the cases inside each too.
beforeAll(() => assertBuilt());
afterAll(async () => {
  warningSpy.mockRestore();
  await flushUnhandled();
  unhandled.dispose();
  console.log(`secrets: ${scanner.outputsSearched} outputs searched (${scanner.bytesSearched} characters), ${scanner.leaks.length} leaks found`);
  expect(unhandled.rejections).toEqual([]);
});

/** The test context's onTestFinished: tests run at once, so each registers its own clean-up. */
type Cleanup = (stop: OnTestFinishedHandler) => void;

/** Stopped when the test that started it ends. */
async function emulator(cleanup: Cleanup, faults: Fault[] = []): Promise<Emulator> {
  const server = await startEmulator({ quiet: true, sessionToken: secrets.cookie, replyTokens: 8, tokenDelayMs: 2, pingIntervalMs: 20, faults });
  cleanup(() => server.stop());
  return server;
}

/** Closed when the test that started it ends. */
async function proxy(cleanup: Cleanup, kind: "http" | "socks5h"): Promise<TestProxy> {
  const auth = `${secrets.proxyUser}:${secrets.proxyPassword}`;
  const started = kind === "http" ? await startConnectProxy(auth) : await startSocks5Proxy(auth);
  cleanup(() => started.close());
  return started;
}

/** `127.0.0.1:PORT` of a test proxy (its URL holds the raw password, not a parseable URL). */
function hostPort(url: string): string {
  return `127.0.0.1:${/:(\d+)$/.exec(url)?.[1] ?? ""}`;
}

/** A TCP server that accepts connections and never says a word (a proxy that hangs). */
async function silentServer(cleanup: Cleanup): Promise<{ port: number }> {
  const server = await listenLocal(createServer((socket) => socket.on("error", () => {})));
  cleanup(() => server.close());
  return server;
}

/**
 * Run one chat and scan everything it produced, and every process warning recorded meanwhile (chats
 * run at once: one chat's warning may be searched under another's name too). Returns the error class name, or "ok".
 */
async function scanChat(where: string, options: OpenAssistantOptions, silence: "short" | "long" = "long", endless = false): Promise<string> {
  const outputs: string[] = [];
  const warningsBefore = processWarnings.length;
  let outcome = "ok";
  try {
    let text = "";
    for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, messages, {
      env: {},
      // Short where the silence is the case (a server or proxy that never answers): it bounds the case, and the wait
      // for the end of a reply left early (hang and endless never end). Elsewhere long: chats run at once, and a
      // loaded machine must not turn a slow answer into a timeout.
      timeout: silence === "short" ? 700 : 5_000,
      maxRetries: 0,
      // An endless stream would never end: 1.4 s of it is plenty. Elsewhere only a bound for the test.
      signal: AbortSignal.timeout(endless ? 1_400 : 10_000),
      onRequest: (entry) => outputs.push(JSON.stringify(entry)),
      onEvent: (event) => outputs.push(JSON.stringify(event)),
      ...options,
    })) {
      text += piece;
    }
    outputs.push(text);
  } catch (error) {
    outcome = (error as Error).constructor.name;
    const e = error as Error & { summary?: string; hint?: string };
    outputs.push(
      e.message,
      String(error),
      e.stack ?? "",
      String(e.summary),
      String(e.hint),
      inspect(error, { depth: Infinity, showHidden: true }),
      JSON.stringify(error),
    );
  }
  for (const output of [...outputs, ...processWarnings.slice(warningsBefore)]) scanner.scan(where, output);
  return outcome;
}

function captureWarnings(sink: string[]): OpenAssistantOptions["onWarning"] {
  return (warning) => sink.push(warning.message, inspect(warning, { depth: Infinity, showHidden: true }));
}

/** Faults where the server goes silent or never ends: the timeout ends them. */
const SILENT_FAULTS: readonly string[] = ["endless", "hang", "slow-headers"];

describe("the provider: errors, causes, warnings and the request trail hold no secret", () => {
  const routes = ["direct", "http", "socks5h"] as const;
  for (const route of routes) {
    it.concurrent(`every fault, ${route === "direct" ? "directly" : `through a ${route} proxy with a password`}`, async ({ onTestFinished }) => {
      const outcomes: Record<string, string> = {};
      const notDeletedBefore = processWarnings.filter((warning) => warning.startsWith("OASST_CHAT_NOT_DELETED")).length;
      // The faults that wait longest (endless, hang, slow-headers) first, then the rest, six at once.
      const faults = [...SILENT_FAULTS, ...["none", ...FAULT_NAMES].filter((f) => !SILENT_FAULTS.includes(f))];
      await mapLimit(faults, 6, async (fault) => {
        const server = await emulator(onTestFinished, fault === "none" ? [] : [fault as Fault]);
        const viaProxy = route === "direct" ? undefined : proxyUrlWithPassword(secrets, route, hostPort((await proxy(onTestFinished, route)).url));
        const warnings: string[] = [];
        outcomes[fault] = await scanChat(
          `provider ${route} ${fault}`,
          {
            baseUrl: server.url,
            cookies: server.cookies,
            proxy: viaProxy,
            // delete-500 also goes to process.emitWarning once, without a handler.
            onWarning: fault === "delete-500" && route === "direct" ? undefined : captureWarnings(warnings),
          },
          SILENT_FAULTS.includes(fault) ? "short" : "long",
          fault === "endless",
        );
        for (const warning of warnings) scanner.scan(`provider ${route} ${fault} warning`, warning);
        await server.stop();
      });
      // The proxied chats did work (the encoded password was accepted): the run covered real replies.
      expect(outcomes.none).toBe("ok");
      expect(outcomes["delete-500"]).toBe("ok");
      if (route === "direct") {
        // That warning did reach process.emitWarning (and was searched).
        expect(processWarnings.filter((warning) => warning.startsWith("OASST_CHAT_NOT_DELETED")).length).toBeGreaterThan(notDeletedBefore);
      }
      expect(scanner.leaks).toEqual([]);
    });
  }

  it.concurrent("proxy failures: wrong password (407), nothing listening, a proxy that never answers, a bad proxy URL", async ({ onTestFinished }) => {
    const server = await emulator(onTestFinished);
    const http = await proxy(onTestFinished, "http");
    const socks = await proxy(onTestFinished, "socks5h");
    const silent = await silentServer(onTestFinished);
    const wrong = { ...secrets, proxyPassword: `${secrets.proxyPassword}-but-wrong` };
    const cases: Array<[string, string]> = [
      ["http proxy, wrong password", proxyUrlWithPassword(wrong, "http", hostPort(http.url))],
      ["socks5h proxy, wrong password", proxyUrlWithPassword(wrong, "socks5h", hostPort(socks.url))],
      ["http proxy, nothing listening", proxyUrlWithPassword(secrets, "http", `127.0.0.1:${await closedPort()}`)],
      ["socks5 proxy, nothing listening", proxyUrlWithPassword(secrets, "socks5", `127.0.0.1:${await closedPort()}`)],
      ["http proxy that never answers", proxyUrlWithPassword(secrets, "http", `127.0.0.1:${silent.port}`)],
      ["socks5h proxy that never answers", proxyUrlWithPassword(secrets, "socks5h", `127.0.0.1:${silent.port}`)],
      ["https proxy that never answers", proxyUrlWithPassword(secrets, "https", `127.0.0.1:${silent.port}`)],
      ["password not percent-encoded", `http://${secrets.proxyUser}:${secrets.proxyPassword}@127.0.0.1:1`],
      ["unsupported proxy scheme", `ftp://${secrets.proxyUser}:${encodeURIComponent(secrets.proxyPassword)}@127.0.0.1:21`],
    ];
    const outcomes = await Promise.all(
      cases.map(([where, url]) =>
        scanChat(where, { baseUrl: server.url, cookies: server.cookies, proxy: url }, where.includes("never answers") ? "short" : "long"),
      ),
    );
    expect(outcomes).toEqual([
      "ConnectionError",
      "ConnectionError",
      "ConnectionError",
      "ConnectionError",
      "TimeoutError",
      "TimeoutError",
      "TimeoutError",
      "ConfigError",
      "ConfigError",
    ]);
    // The wrong password starts with the planted one, so a leak of it is found too.
    expect(scanner.leaks).toEqual([]);
  });

  it.concurrent("cookies the transport refuses, and a refused connection with the cookie in a header string", async () => {
    const port = await closedPort();
    const outcomes = await Promise.all([
      scanChat("cookie with a line break", { baseUrl: `http://127.0.0.1:${port}`, cookies: `a=1; next-auth.session-token=${secrets.cookie}\r\nX: y` }),
      scanChat("cookie with a NUL", { baseUrl: `http://127.0.0.1:${port}`, cookies: { "next-auth.session-token": `${secrets.cookie}\0` } }),
      scanChat("refused, cookie string", { baseUrl: `http://127.0.0.1:${port}`, cookies: `next-auth.session-token=${secrets.cookie}` }),
      scanChat("refused, OASST_COOKIES", { baseUrl: `http://127.0.0.1:${port}`, env: { OASST_COOKIES: `next-auth.session-token=${secrets.cookie}` } }),
    ]);
    expect(outcomes).toEqual(["ConfigError", "ConfigError", "ConnectionError", "ConnectionError"]);
    expect(scanner.leaks).toEqual([]);
  });
});

describe("the CLI: stdout and stderr with --verbose and --json hold no secret", () => {
  const CLI_FAULTS: Array<Fault | "none"> = [
    "none",
    "auth",
    "error-event",
    "drop",
    "hang",
    "malformed-json",
    "html",
    "redirect",
    "close-mid-json",
    "delete-500",
    "oversized-line",
  ];

  it.concurrent(
    `${CLI_FAULTS.length} faults × {--verbose, --json --verbose} by flags, 5 by environment, and rate-limit and busy, through a CONNECT proxy with a password`,
    async ({ onTestFinished }) => {
      const cases = [
        ...CLI_FAULTS.flatMap((fault) => (["--verbose", "--json"] as const).map((mode) => ({ fault, mode, source: "flags" as const }))),
        // The environment only changes where the settings come from: a few faults suffice.
        ...(["none", "auth", "error-event", "redirect", "delete-500"] as const).map((fault) => ({ fault, mode: "--json" as const, source: "env" as const })),
        // Retried twice by default (3 to 5 s each): once each, for the verbose retry lines.
        { fault: "rate-limit" as const, mode: "--verbose" as const, source: "flags" as const },
        { fault: "busy" as const, mode: "--json" as const, source: "env" as const },
      ];
      // The longest waits (retries, a silent server, 17 MiB through the proxy) start first; the others fill in beside them.
      const LONG: ReadonlyArray<Fault | "none"> = ["rate-limit", "busy", "hang", "oversized-line"];
      const order = [...cases.keys()].sort((a, b) => Number(LONG.includes(cases[b]!.fault)) - Number(LONG.includes(cases[a]!.fault)));
      const ordered = await mapLimit(order, 8, async (index) => {
        const { fault, mode, source } = cases[index]!;
        const server = await emulator(onTestFinished, fault === "none" ? [] : [fault]);
        const http = await proxy(onTestFinished, "http");
        const proxyUrl = proxyUrlWithPassword(secrets, "http", hostPort(http.url));
        // A short timeout where the server goes silent (it ends the case); elsewhere long, so that a loaded machine does not turn an answer into a timeout.
        const args = ["chat", "--timeout", fault === "hang" ? "1500ms" : "10s", "--verbose", ...(mode === "--json" ? ["--json"] : []), messages[0]!.content];
        const connection: { args: string[]; env: Record<string, string> } =
          source === "flags"
            ? { args: ["--base-url", server.url, "--cookie", server.cookie, "--proxy", proxyUrl], env: {} }
            : { args: [], env: { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie, HTTP_PROXY: proxyUrl } };
        const run = await runCliInProcess([...args, ...connection.args], { env: connection.env });
        scanner.scan(`cli ${fault} ${mode} ${source} stdout`, run.stdout);
        scanner.scan(`cli ${fault} ${mode} ${source} stderr`, run.stderr);
        // The verbose trail really covered the proxy and the cookie (names only).
        expect(run.stderr).toContain(`proxy: http://${secrets.proxyUser}:***@`);
        expect(run.stderr).toContain(`cookies: ${server.cookieName} (from `);
        return run.code;
      });
      const codes = order.map((_, i) => ordered[order.indexOf(i)]);
      expect(codes[0]).toBe(0); // none, --verbose, flags: a real reply went through the proxy
      expect(scanner.leaks).toEqual([]);
    },
    120_000,
  );

  it.concurrent(
    "proxy failures and the other commands (models, chats) with --verbose",
    async ({ onTestFinished }) => {
      const server = await emulator(onTestFinished);
      const http = await proxy(onTestFinished, "http");
      const socks = await proxy(onTestFinished, "socks5h");
      const wrong = proxyUrlWithPassword({ ...secrets, proxyPassword: secrets.proxyPassword + "x" }, "http", hostPort(http.url));
      const runs: Array<[string, string[]]> = [
        ["wrong proxy password", ["chat", "--proxy", wrong, "Hi"]],
        ["socks proxy", ["chat", "--json", "--proxy", proxyUrlWithPassword(secrets, "socks5h", hostPort(socks.url)), "Hi"]],
        ["unencoded password", ["chat", "--proxy", `http://${secrets.proxyUser}:${secrets.proxyPassword}@127.0.0.1:1`, "Hi"]],
        ["nothing listening", ["chat", "--base-url", `http://127.0.0.1:${await closedPort()}`, "Hi"]],
        ["models", ["models", "--proxy", proxyUrlWithPassword(secrets, "http", hostPort(http.url))]],
        ["chats --json", ["chats", "--json", "--proxy", proxyUrlWithPassword(secrets, "http", hostPort(http.url))]],
      ];
      const results = await mapLimit(runs, 3, async ([where, args]) => {
        const run = await runCliInProcess([...args, "--verbose"], { env: { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie } });
        scanner.scan(`cli ${where} stdout`, run.stdout);
        scanner.scan(`cli ${where} stderr`, run.stderr);
        return run.code;
      });
      expect(results).toEqual([5, 0, 1, 5, 0, 0]);
      expect(scanner.leaks).toEqual([]);
    },
    60_000,
  );
});

describe("the gateway (oasst serve --verbose): answers, logs and output hold no secret", () => {
  const SERVE_FAULTS: Array<Fault | "none"> = [
    "none",
    "auth",
    "error-event",
    "drop",
    "hang",
    "html",
    "redirect",
    "close-mid-json",
    "delete-500",
    "malformed-json",
  ];

  /** Every request an OpenAI client might send, good and bad; the answers' headers and bodies. */
  async function callGateway(base: string): Promise<string[]> {
    const outputs: string[] = [];
    const call = async (path: string, init: RequestInit) => {
      const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(5_000) }).catch((error: unknown) => error as Error);
      if (response instanceof Error) return outputs.push(String(response));
      outputs.push(`${response.status} ${[...response.headers].join(" ")} ${await response.text().catch((e: unknown) => String(e))}`);
    };
    const auth = { authorization: `Bearer ${secrets.apiKey}`, "content-type": "application/json", connection: "close" };
    const body = (extra: object = {}) => JSON.stringify({ model: MODEL, messages, ...extra });
    await call("/v1/chat/completions", { method: "POST", headers: auth, body: body() });
    await call("/v1/chat/completions", { method: "POST", headers: auth, body: body({ stream: true, stream_options: { include_usage: true } }) });
    await call("/v1/chat/completions", { method: "POST", headers: { ...auth, authorization: `Bearer ${secrets.apiKey}-wrong` }, body: body() });
    await call("/v1/chat/completions", { method: "POST", headers: { ...auth, authorization: "" }, body: body() });
    await call("/v1/chat/completions", { method: "POST", headers: { ...auth, cookie: `next-auth.session-token=${secrets.cookie}` }, body: "{" });
    await call("/v1/chat/completions", { method: "POST", headers: auth, body: body({ model: "gpt-4" }) });
    await call("/v1/models", { headers: auth });
    await call("/v1/models/OA_SFT_Llama_30B_6", { headers: auth });
    await call("/health", {});
    return outputs;
  }

  it.concurrent(
    `${SERVE_FAULTS.length} faults, through a CONNECT proxy with a password, the API key by flag and by environment`,
    async ({ onTestFinished }) => {
      // hang waits longest (two completions, each the timeout and the wait for the reply's end): it starts first.
      const order = [SERVE_FAULTS.indexOf("hang"), ...SERVE_FAULTS.keys()].filter((index, at, all) => all.indexOf(index) === at);
      const statuses = await mapLimit(order, 5, async (index) => {
        const fault = SERVE_FAULTS[index]!;
        const server = await emulator(onTestFinished, fault === "none" ? [] : [fault]);
        const http = await proxy(onTestFinished, "http");
        const proxyUrl = proxyUrlWithPassword(secrets, "http", hostPort(http.url));
        const viaFlag = index % 2 === 0;
        const outputs: string[] = [];
        const run = runCli(
          [
            "serve",
            "--port",
            "0",
            "--verbose",
            "--timeout",
            fault === "hang" ? "1500ms" : "10s",
            "--base-url",
            server.url,
            "--cookie",
            server.cookie,
            "--proxy",
            proxyUrl,
            ...(viaFlag ? ["--api-key", secrets.apiKey] : []),
          ],
          {
            env: viaFlag ? {} : { OASST_API_KEY: secrets.apiKey },
            onSpawn: (child) => {
              let stdout = "";
              child.stdout.on("data", (chunk: Buffer | string) => {
                stdout += chunk.toString();
                const url = /listening on (http:\/\/[\d.:]+)/.exec(stdout)?.[1];
                if (!url || outputs.length) return;
                outputs.push("started");
                void callGateway(url).then((answers) => {
                  outputs.push(...answers);
                  child.kill("SIGINT");
                });
              });
            },
          },
        );
        const result = await run;
        for (const output of outputs) scanner.scan(`serve ${fault} answer`, output);
        scanner.scan(`serve ${fault} stdout`, result.stdout);
        scanner.scan(`serve ${fault} stderr`, result.stderr);
        // The verbose trail and the answers were really there.
        expect(result.stderr).toContain(`proxy: http://${secrets.proxyUser}:***@`);
        expect(outputs.length).toBeGreaterThan(5);
        expect(result.exit?.drained).toBe(true);
        return { fault, code: result.code, first: outputs[1]?.slice(0, 3) };
      });
      expect(statuses.every((s) => s.code === 0)).toBe(true);
      expect(statuses.find((s) => s.fault === "none")?.first).toBe("200");
      expect(scanner.leaks).toEqual([]);
    },
    60_000,
  );
});
