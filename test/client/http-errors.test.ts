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
