import { describe, expect, it } from "vitest";
import { errorForStatus, parseJsonBody, retryAfterMs, serverMessageOf } from "../../src/client/http-errors.js";
import { AuthError, ProtocolError, RateLimitError, ServerBusyError, ServerError } from "../../src/errors.js";

const context = { what: "POST /api/chat/assistant_message", chatId: "c1" };
const response = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers });

describe("errorForStatus", () => {
  it("maps 403 with an empty body to AuthError with status, chat id and a fix", () => {
    const error = errorForStatus(response(403), "", context);
    expect(error).toBeInstanceOf(AuthError);
    expect(error.status).toBe(403);
    expect(error.chatId).toBe("c1");
    expect(error.summary).toMatch(/POST \/api\/chat\/assistant_message was refused \(HTTP 403\)/);
    expect(error.hint).toMatch(/cookie/);
    expect(error.message).toBe(`${error.summary}\n${error.hint}`);
  });

  it("names the session cookie the site expects by its scheme, else both names; never a site that closed", () => {
    const at = (url: string) => ({ status: 403, url, headers: new Headers() });
    expect(errorForStatus(at("http://127.0.0.1:8/api/chat"), "", context).hint).toContain("(next-auth.session-token=…)");
    expect(errorForStatus(at("https://chat.example/api/chat"), "", context).hint).toContain("(__Secure-next-auth.session-token=…)");
    const unknown = errorForStatus(response(403), "", context).hint;
    expect(unknown).toContain("__Secure-next-auth.session-token on an https site, next-auth.session-token on plain http");
    for (const hint of [unknown, errorForStatus(at("https://chat.example/api/chat"), "", context).hint]) expect(hint).not.toContain("open-assistant.io");
  });

  it("a 404 under /api says the base URL must be the site root and shows the URL used; about one chat, names it first", () => {
    const at = { status: 404, url: "https://chat.example/api/api/chat/models?x=1", headers: new Headers() };
    expect(errorForStatus(at, "", { what: "GET /api/chat/models" }).hint).toBe(
      "Check the base URL: it must be the Open-Assistant site's root, without /api (the request went to https://chat.example/api/api/chat/models).",
    );
    expect(errorForStatus(at, "", context).hint).toMatch(/^Chat c1 is unknown, deleted or another account's; or the base URL is wrong: it must be/);
  });

  it("a 500 speaks of the rate limit only for assistant_message", () => {
    expect(errorForStatus(response(500), "", context).hint).toContain("rate limit");
    expect(errorForStatus(response(500), "", { what: "DELETE /api/chat", chatId: "c1" }).hint).toBe("The server failed: try again later.");
  });

  it("maps 429 and 503 to retryable errors with Retry-After", () => {
    const limited = errorForStatus(response(429, { "retry-after": "2" }), '{"message":"Too Many Requests"}', context);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).retryAfterMs).toBe(2000);
    expect(limited.serverMessage).toBe("Too Many Requests");
    const busy = errorForStatus(response(503), '{"message":"The server is currently busy. Please try again later."}', context);
    expect(busy).toBeInstanceOf(ServerBusyError);
    expect(busy.summary).toContain("The server is currently busy");
  });

  it("keeps the server's message, including FastAPI validation arrays", () => {
    const error = errorForStatus(
      response(422),
      '{"message":[{"loc":["body","sampling_parameters","max_new_tokens"],"msg":"none is not an allowed value","type":"type_error.none.not_allowed"}]}',
      context,
    );
    expect(error).toBeInstanceOf(ServerError);
    expect(error.serverMessage).toBe("body.sampling_parameters.max_new_tokens: none is not an allowed value");
  });

  it("refuses to follow a redirect and says where it pointed", () => {
    const error = errorForStatus(response(302, { location: "http://evil.example/login?next=1" }), "", context);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.summary).toContain("http://evil.example/login");
    expect(error.summary).toContain("does not follow redirects");
  });
});

describe("body helpers", () => {
  it("reads Retry-After as seconds or as a date", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs(null)).toBeUndefined();
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(retryAfterMs(inTenSeconds)).toBeGreaterThan(8000);
  });

  it("takes plain text messages but not HTML pages", () => {
    expect(serverMessageOf("Internal Server Error")).toBe("Internal Server Error");
    expect(serverMessageOf("<html><body>Oops</body></html>")).toBeUndefined();
    expect(serverMessageOf("")).toBeUndefined();
  });

  it("names an HTML page and bad JSON as protocol errors", () => {
    expect(() => parseJsonBody("<!DOCTYPE html><html>", context, 200)).toThrow(/HTML page instead of JSON/);
    expect(() => parseJsonBody('{"id": ', context, 200)).toThrow(ProtocolError);
    expect(parseJsonBody<{ id: string }>('{"id":"x"}', context, 200).id).toBe("x");
  });
});
