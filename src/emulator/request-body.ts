import type { IncomingMessage } from "node:http";

/**
 * The Next.js API body parser (`parseBody` in `next/dist/server/api-utils/node`), which
 * runs before any route handler: a 1 MB limit (413), JSON for `application/json` (400 on
 * invalid JSON, `{}` for an empty body), form fields for urlencoded bodies, the raw text
 * otherwise.
 */

export const BODY_LIMIT_BYTES = 1024 * 1024;

export type BodyParseResult =
  { ok: true; text: string; value: unknown } | { ok: false; text: string; status: 400 | 413; reason: "Invalid JSON" | "Body exceeded 1mb limit" };

/** Reads the whole body; bytes beyond the limit are read (the connection stays usable) but not kept. */
export async function readRequestBody(incoming: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  const declaredLength = Number(incoming.headers["content-length"] ?? 0);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of incoming) {
    const buffer = chunk as Buffer;
    if (received <= BODY_LIMIT_BYTES) chunks.push(buffer);
    received += buffer.length;
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return { text, tooLarge: received > BODY_LIMIT_BYTES || declaredLength > BODY_LIMIT_BYTES };
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? "text/plain").split(";")[0]?.trim().toLowerCase() ?? "";
}

export function parseRequestBody(text: string, tooLarge: boolean, contentType: string | undefined): BodyParseResult {
  if (tooLarge) return { ok: false, text, status: 413, reason: "Body exceeded 1mb limit" };
  const type = mediaType(contentType);
  if (type === "application/json" || type === "application/ld+json") {
    if (text.length === 0) return { ok: true, text, value: {} };
    try {
      return { ok: true, text, value: JSON.parse(text) as unknown };
    } catch {
      return { ok: false, text, status: 400, reason: "Invalid JSON" };
    }
  }
  if (type === "application/x-www-form-urlencoded") {
    const fields: Record<string, string | string[]> = {};
    for (const [name, value] of new URLSearchParams(text)) {
      const previous = fields[name];
      fields[name] = previous === undefined ? value : [previous, value].flat();
    }
    return { ok: true, text, value: fields };
  }
  return { ok: true, text, value: text };
}
