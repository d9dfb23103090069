import type { MiddlewareHandler } from "hono";
import { GatewayError } from "./openai-errors.js";

/**
 * Require `Authorization: Bearer <apiKey>`. Both keys are hashed first, so the
 * comparison takes the same time whatever the length or the first wrong character.
 */
export function apiKeyAuth(apiKey: string): MiddlewareHandler {
  const expected = sha256(apiKey);
  return async (c, next) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(c.req.header("authorization") ?? "");
    if (!match?.[1]) {
      return new GatewayError(401, "Missing API key: send it as `Authorization: Bearer YOUR_KEY` (the key the gateway was started with).", {
        code: "invalid_api_key",
      }).toResponse();
    }
    if (!sameBytes(await sha256(match[1]), await expected)) {
      // The key is never echoed, not even in part.
      return new GatewayError(401, "Incorrect API key: use the key the gateway was started with (--api-key or OASST_API_KEY).", {
        code: "invalid_api_key",
      }).toResponse();
    }
    await next();
  };
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Constant time for equal lengths, which two SHA-256 digests always have. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
