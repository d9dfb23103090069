import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Accounts } from "../../src/accounts/accounts.js";
import { accountId } from "../../src/accounts/account-id.js";
import { RateLimitLedger } from "../../src/accounts/rate-limit-ledger.js";

const limit = { messages: 3, windowMs: 60_000 };

describe("RateLimitLedger", () => {
  it("counts as the server's limiter: a fixed window opened by the first attempt, refusals not counted", () => {
    const ledger = new RateLimitLedger({ limit });
    const t0 = 1_000_000;
    expect(ledger.attempt("a", t0)).toEqual({ allowed: true, resetsAt: t0 + 60_000 });
    expect(ledger.attempt("a", t0 + 10).allowed).toBe(true);
    expect(ledger.attempt("a", t0 + 20).allowed).toBe(true);
    expect(ledger.limitedUntil("a", t0 + 20)).toBe(t0 + 60_000);
    expect(ledger.attempt("a", t0 + 30)).toEqual({ allowed: false, resetsAt: t0 + 60_000 });
    expect(ledger.window("a", t0 + 30)).toEqual({ start: t0, count: 3 });
    // Another account has its own window.
    expect(ledger.attempt("b", t0 + 30).allowed).toBe(true);
    // The window closes a window's length after it opened, not after the last attempt.
    expect(ledger.limitedUntil("a", t0 + 60_000)).toBeUndefined();
    expect(ledger.attempt("a", t0 + 60_000)).toEqual({ allowed: true, resetsAt: t0 + 120_000 });
  });

  it("keeps the counts in a file for the next process, by account id only", () => {
    const file = join(mkdtempSync(join(tmpdir(), "oasst-ledger-")), "state", "rate-limits.json");
    const cookie = "next-auth.session-token=SECRET-SESSION-VALUE";
    const id = accountId("http://127.0.0.1:1/", cookie);
    const first = new RateLimitLedger({ limit, file });
    const now = Date.now();
    for (let i = 0; i < 3; i++) first.attempt(id, now);
    const written = readFileSync(file, "utf8");
    expect(written).not.toContain("SECRET");
    const second = new RateLimitLedger({ limit, file });
    expect(second.attempt(id, now + 1)).toEqual({ allowed: false, resetsAt: now + 60_000 });
  });
});

describe("accounts", () => {
  it("are one per site and session cookie; other cookies do not make another account", () => {
    const accounts = new Accounts();
    const a = accounts.get("https://oa.example/", "next-auth.session-token=one; _ga=1");
    expect(accounts.get("https://oa.example/", "_ga=2; next-auth.session-token=one")).toBe(a);
    expect(accounts.get("https://oa.example/", "next-auth.session-token=two")).not.toBe(a);
    expect(accounts.get("https://other.example/", "next-auth.session-token=one")).not.toBe(a);
  });

  it("report their state without the cookie", () => {
    const accounts = new Accounts({ rateLimit: { messages: 1, windowMs: 60_000 } });
    const account = accounts.get("https://oa.example/", "next-auth.session-token=SECRET");
    expect(account.status()).toMatchObject({ state: "ready", replying: 0, waiting: 0, messagesInWindow: 0 });
    account.countAttempt();
    const status = account.status();
    expect(status.state).toBe("rate_limited");
    expect(Date.parse(status.rateLimitedUntil ?? "")).toBeGreaterThan(Date.now());
    account.noteAuth("GET /api/chat was refused (HTTP 403)");
    expect(account.status().state).toBe("auth_failed");
    expect(JSON.stringify(account.status())).not.toContain("SECRET");
  });
});
