import { describe, expect, it } from "vitest";
import { emulator, http } from "./helpers.js";

const CHAT_ROUTES = [
  ["GET", "/api/chat"],
  ["POST", "/api/chat"],
  ["POST", "/api/chat/prompter_message"],
  ["POST", "/api/chat/assistant_message"],
  ["POST", "/api/chat/events?chat_id=a&message_id=b"],
  ["GET", "/api/chat/message?chat_id=a&message_id=b"],
  ["GET", "/api/chat/models"],
] as const;

describe("session", () => {
  it("answers 403 with an empty body and no content-type without the cookie, on every route", async () => {
    const server = await emulator();
    for (const [method, path] of CHAT_ROUTES) {
      const response = await http(server, method, path, { cookie: false });
      expect([method, path, response.status, response.body.length, response.headers["content-type"]]).toEqual([method, path, 403, 0, undefined]);
    }
  });

  it("rejects a wrong token, and the token under the other cookie name", async () => {
    const server = await emulator({ sessionToken: "right-token" });
    for (const cookie of ["next-auth.session-token=wrong", "__Secure-next-auth.session-token=right-token", "session-token=right-token"]) {
      expect((await http(server, "GET", "/api/chat", { cookie: false, headers: { cookie } })).status).toBe(403);
    }
  });

  it("accepts the cookie among others, URL-encoded, and in NextAuth's chunks", async () => {
    const server = await emulator({ sessionToken: "abc.def-ghi_jkl" });
    expect(server.cookie).toBe("next-auth.session-token=abc.def-ghi_jkl");
    expect(server.cookies).toEqual({ "next-auth.session-token": "abc.def-ghi_jkl" });
    for (const cookie of [
      "theme=dark; next-auth.session-token=abc.def-ghi_jkl; other=1",
      "next-auth.session-token=abc%2Edef-ghi_jkl",
      "next-auth.session-token.1=-ghi_jkl; next-auth.session-token.0=abc.def",
    ]) {
      expect((await http(server, "GET", "/api/chat", { cookie: false, headers: { cookie } })).status).toBe(200);
    }
  });

  it("falls back to Authorization: Bearer only when no session cookie is present", async () => {
    const server = await emulator();
    const bearer = { authorization: `Bearer ${encodeURIComponent(server.sessionToken)}` };
    expect((await http(server, "GET", "/api/chat", { cookie: false, headers: bearer })).status).toBe(200);
    const withWrongCookie = { ...bearer, cookie: "next-auth.session-token=wrong" };
    expect((await http(server, "GET", "/api/chat", { cookie: false, headers: withWrongCookie })).status).toBe(403);
    expect((await http(server, "GET", "/api/chat", { cookie: false, headers: { authorization: `Basic ${server.sessionToken}` } })).status).toBe(403);
  });

  it("reads only the __Secure- cookie with secureCookie", async () => {
    const server = await emulator({ secureCookie: true });
    expect(server.cookieName).toBe("__Secure-next-auth.session-token");
    expect((await http(server, "GET", "/api/chat")).status).toBe(200);
    const plain = `next-auth.session-token=${server.sessionToken}`;
    expect((await http(server, "GET", "/api/chat", { cookie: false, headers: { cookie: plain } })).status).toBe(403);
  });

  it("makes a random base64url token of 32 bytes by default", async () => {
    const [a, b] = [await emulator(), await emulator()];
    expect(a.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.sessionToken).not.toBe(b.sessionToken);
  });
});
