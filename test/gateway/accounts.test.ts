import { describe, expect, test } from "vitest";
import { Accounts } from "../../src/accounts/accounts.js";
import { MODEL, eventually, post, setup } from "./gateway-harness.js";

const TOKENS = ["alice-session-token", "bob-session-token"];
const cookieOf = (token: string) => `next-auth.session-token=${token}`;

describe("several accounts", () => {
  test("replies are spread over the accounts, and /v1/status shows each one without its cookie", async () => {
    const accounts = new Accounts();
    const { gateway, emulator } = await setup(
      { tokenDelayMs: 20, replyTokens: 10, sessionTokens: TOKENS },
      { cookies: undefined, accounts, sessions: TOKENS.map((token) => ({ cookies: cookieOf(token) })) },
    );
    const answers = await Promise.all(
      [0, 1, 2, 3].map((n) => post(gateway, "/v1/chat/completions", { model: MODEL, messages: [{ role: "user", content: `hi ${n}` }] })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    const posters = emulator.requests.filter((r) => r.path === "/api/chat/assistant_message").map((r) => r.headers.cookie);
    expect(posters.filter((cookie) => cookie === cookieOf(TOKENS[0]!))).toHaveLength(2);
    expect(posters.filter((cookie) => cookie === cookieOf(TOKENS[1]!))).toHaveLength(2);

    const status = await fetch(`${gateway.url}/v1/status`);
    const text = await status.text();
    expect(status.status).toBe(200);
    expect(text).not.toContain("session-token");
    const body = JSON.parse(text) as { accounts: Array<{ state: string; messagesInWindow: number; id: string }> };
    expect(body.accounts).toHaveLength(2);
    expect(body.accounts.map((a) => a.messagesInWindow)).toEqual([2, 2]);
    expect(body.accounts.every((a) => a.state === "ready" && /^[0-9a-f]{16}$/.test(a.id))).toBe(true);
    const health = await (await fetch(`${gateway.url}/health`)).json();
    expect(health).toEqual({ status: "ok", accounts: 2, usable: 2 });
  });

  test("a rate-limited account is skipped while another has room; when all are full, 429 with Retry-After", async () => {
    const limit = { messages: 1, windowMs: 600_000 };
    const { gateway, emulator } = await setup(
      { rateLimit: limit, sessionTokens: TOKENS },
      { cookies: undefined, accounts: new Accounts({ rateLimit: limit }), sessions: TOKENS.map((token) => ({ cookies: cookieOf(token) })) },
    );
    const ask = () => post(gateway, "/v1/chat/completions", { model: MODEL, messages: [{ role: "user", content: "hi" }] });
    expect((await ask()).status).toBe(200);
    expect((await ask()).status).toBe(200);
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(590);
    expect(await refused.json()).toMatchObject({ error: { type: "rate_limit_error" } });
    await eventually(() => emulator.liveChats() === 0, "the refused reply's chat deleted after the answer");
    const health = await (await fetch(`${gateway.url}/health`)).json();
    expect(health).toEqual({ status: "ok", accounts: 2, usable: 0 });
  });
});
