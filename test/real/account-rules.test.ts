/**
 * One account against the real server's rules: it cancels a user's pending reply when the
 * user posts another, allows 20 replies per 660 s (answering the 21st with a bare 500),
 * and builds the model's prompt from the chat's thread itself.
 */
import { join } from "node:path";
import OpenAI from "openai";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Accounts, OpenAssistant, OpenAssistantClient, RateLimitError, ReplyCancelledError, ServerError, type OpenAssistantOptions } from "../../src/index.js";
import { serveGateway, type ServedGateway } from "../../src/gateway/index.js";
import { assertBuilt, collect, makeTempHome, runCli, spawnCli, waitForOutput, type TempHome } from "../cli/cli-harness.js";
import { MODEL, chatIds, realStack, userCookie, waitForNoChats } from "./stack.js";

const ask = (content: string) => [{ role: "user", content }];
const options = (cookies: string, extra: OpenAssistantOptions = {}): OpenAssistantOptions => ({
  baseUrl: realStack().website,
  cookies,
  env: {},
  onWarning: () => undefined,
  ...extra,
});

let home: TempHome;
const gateways: ServedGateway[] = [];
beforeAll(() => assertBuilt());
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
  await home.remove();
});

/** Keeps the fake worker's 4 slots busy for `ms` with replies of other users, so that the next reply waits in the queue. */
async function fillWorkerSlots(ms: number): Promise<{ done: Promise<unknown> }> {
  const tokens = Math.ceil(ms / 100);
  const fillers = await Promise.all([0, 1, 2, 3].map(() => userCookie("filler")));
  let started = 0;
  const done = Promise.allSettled(
    fillers.map((cookie) =>
      OpenAssistant.createAsync(
        MODEL,
        ask(`[[fake:tokens=${tokens}]] [[fake:delay=100]]`),
        options(cookie, { onEvent: (event) => void (event.event_type === "token" && started++) }),
      ),
    ),
  );
  while (started < 4) await new Promise((resolve) => setTimeout(resolve, 20));
  return { done };
}

describe("one account, several replies at once", () => {
  it("six concurrent replies on one cookie all complete (the worker takes four at a time)", async () => {
    const cookie = await userCookie("many");
    const replies = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((n) => OpenAssistant.createAsync(MODEL, ask(`reply ${n} [[fake:tokens=10]]`), options(cookie, { timeout: 20_000 }))),
    );
    replies.forEach((reply, n) => expect(reply).toMatch(new RegExp(`^You said: reply ${n}\n`)));
    await waitForNoChats(cookie);
  });

  it("a reply the server cancelled (another process on the account) ends within seconds with a ReplyCancelledError", async () => {
    const cookie = await userCookie("cancel");
    const fillers = await fillWorkerSlots(6_000);
    // Two processes: each has its own Accounts, so nothing keeps their replies apart.
    let secondPosted = 0;
    const first = OpenAssistant.createAsync(MODEL, ask("first"), options(cookie, { accounts: new Accounts() })).catch((error: unknown) => ({
      error,
      after: Date.now() - secondPosted,
    }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const second = OpenAssistant.createAsync(
      MODEL,
      ask("second"),
      options(cookie, {
        accounts: new Accounts(),
        onRequest: ({ url }) => {
          if (url.includes("assistant_message")) secondPosted = Date.now();
        },
      }),
    );
    const outcome = await first;
    expect(outcome).toMatchObject({ error: expect.any(ReplyCancelledError) });
    // The state is read every 3 s while a reply waits.
    expect((outcome as { after: number }).after).toBeLessThan(4_500);
    await expect(second).resolves.toMatch(/^You said: second/);
    await fillers.done;
    // The cancelled reply's chat is left (a worker must skip its message first); by now one has.
    const left = await chatIds(cookie);
    expect(left).toHaveLength(1);
    const client = new OpenAssistantClient({ baseUrl: realStack().website, cookies: cookie, env: {} });
    await client.deleteChat(left[0]!);
    await client.close();
  });

  it("a reply left early does not take other users' replies down with it", async () => {
    const other = OpenAssistant.createAsync(MODEL, ask("[[fake:tokens=30]] [[fake:delay=100]]"), options(await userCookie("bystander")));
    const cookie = await userCookie("leaver");
    const controller = new AbortController();
    let tokens = 0;
    const warnings: string[] = [];
    const left = await OpenAssistant.createAsync(
      MODEL,
      ask("[[fake:tokens=15]] [[fake:delay=100]]"),
      options(cookie, {
        signal: controller.signal,
        onWarning: (warning) => warnings.push(warning.code),
        onEvent: (event) => void (event.event_type === "token" && ++tokens === 3 && controller.abort()),
      }),
    ).catch((error: unknown) => error);
    expect((left as Error).name).toBe("AbortError");
    expect(warnings).toEqual(["reply_still_running"]);
    expect(await chatIds(cookie)).toEqual([]);
    // Deleting the chat while its reply ran would have ended this one with "Aborted due to worker error".
    await expect(other).resolves.toMatch(/^You said: /);
  });

  it("replies queued behind a full worker keep their order and all complete", async () => {
    const cookie = await userCookie("queued");
    const fillers = await fillWorkerSlots(3_000);
    const events: string[] = [];
    const replies = await Promise.all(
      [0, 1, 2].map((n) =>
        OpenAssistant.createAsync(MODEL, ask(`q${n} [[fake:tokens=3]]`), options(cookie, { onEvent: (event) => events.push(`${n}:${event.event_type}`) })),
      ),
    );
    replies.forEach((reply, n) => expect(reply).toMatch(new RegExp(`^You said: q${n}\n`)));
    expect(events.filter((event) => event.endsWith(":pending")).length).toBeGreaterThan(0);
    await fillers.done;
  });
});

describe("the rate limit: 20 replies per user per 660 s", () => {
  it("the 21st is a RateLimitError with the time to wait; in a new CLI process, exit 3", async () => {
    const cookie = await userCookie("limit");
    const accounts = new Accounts({ ledgerFile: join(home.configDir, "oasst", "rate-limits.json") });
    for (let n = 0; n < 20; n++) await OpenAssistant.createAsync(MODEL, ask(`n${n} [[fake:tokens=1]]`), options(cookie, { accounts }));
    const error = await OpenAssistant.createAsync(MODEL, ask("21st"), options(cookie, { accounts, maxRetries: 0 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).status).toBe(500);
    expect((error as RateLimitError).retryAfterMs).toBeGreaterThan(500_000);

    const cli = await runCli(["chat", "--base-url", realStack().website, "--cookie", cookie, "22nd"], home, { timeoutMs: 30_000 });
    expect(cli.code).toBe(3);
    expect(cli.stderr).toMatch(/^hint: Wait \d+ min/m);

    // A process that did not count them cannot tell: a ServerError that names the rate limit.
    const unknown = await OpenAssistant.createAsync(MODEL, ask("23rd"), options(cookie, { accounts: new Accounts(), maxRetries: 0 })).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ServerError);
    expect((unknown as ServerError).hint).toMatch(/rate limit/);
    await waitForNoChats(cookie);
  });
});

describe("the prompt", () => {
  it("reaches the model as the user wrote it", async () => {
    const reply = await OpenAssistant.createAsync(MODEL, ask("hello there"), options(await userCookie("prompt")));
    expect(reply).toMatch(/^You said: hello there\n/);
  });

  it("with promptFormat gpt4free, in the seed's Llama-2 wrapper", async () => {
    const reply = await OpenAssistant.createAsync(MODEL, ask("hello there"), options(await userCookie("prompt"), { promptFormat: "gpt4free" }));
    expect(reply).toMatch(/^You said: <s>\[INST\]\nhello there\n\[\/INST\]/);
  });
});

describe("the gateway", () => {
  it("eight concurrent requests on one account all complete", async () => {
    const cookie = await userCookie("gw");
    const gateway = await serveGateway({ port: 0, baseUrl: realStack().website, cookies: cookie, env: {}, accounts: new Accounts() });
    gateways.push(gateway);
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const answers = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((n) => openai.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: `g${n} [[fake:tokens=5]]` }] })),
    );
    answers.forEach((answer, n) => expect(answer.choices[0]?.message.content).toMatch(new RegExp(`^You said: g${n}\n`)));
    await waitForNoChats(cookie);
  });

  it("spreads replies over several accounts and shows each one's state", async () => {
    const cookies = [await userCookie("gwa"), await userCookie("gwb")];
    const gateway = await serveGateway({
      port: 0,
      baseUrl: realStack().website,
      env: {},
      accounts: new Accounts(),
      sessions: cookies.map((c) => ({ cookies: c })),
    });
    gateways.push(gateway);
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await Promise.all(
      [0, 1, 2, 3].map((n) => openai.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: `s${n} [[fake:tokens=5]]` }] })),
    );
    const status = (await (await fetch(`${gateway.url}/v1/status`)).json()) as { accounts: Array<{ messagesInWindow: number }> };
    expect(status.accounts.map((account) => account.messagesInWindow)).toEqual([2, 2]);
    for (const cookie of cookies) await waitForNoChats(cookie);
  });
});

describe("oasst chat and signals", () => {
  it.each(["SIGTERM", "SIGHUP"] as const)("%s mid-reply deletes the chat", async (signal) => {
    const cookie = await userCookie("signal");
    const child = spawnCli(["chat", "--base-url", realStack().website, "--cookie", cookie, "[[fake:delay=200]] slowly"], home);
    const result = collect(child, 30_000);
    child.stdin.end();
    await waitForOutput(child, "You said", 20_000);
    expect(await chatIds(cookie)).toHaveLength(1);
    child.kill(signal);
    expect((await result).code).toBe(130);
    await waitForNoChats(cookie);
  });
});
