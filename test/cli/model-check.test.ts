/** `/model NAME` in the interactive session: checked against the server's list, which may be unreadable. */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { OpenAssistantClient } from "../../src/client/client.js";
import { ServerError } from "../../src/errors.js";
import { checkedModel } from "../../src/cli/interactive-session.js";

function clientListing(listModels: () => Promise<Array<{ name: string }>>): OpenAssistantClient {
  return { listModels } as unknown as OpenAssistantClient;
}

afterEach(() => vi.restoreAllMocks());

describe("checkedModel", () => {
  it("takes a listed name, and keeps the current model for an unknown one, naming the known ones", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockReturnValue(true);
    const client = clientListing(async () => [{ name: "A" }, { name: "B" }]);
    expect(await checkedModel(client, "B", "A")).toBe("B");
    expect(await checkedModel(client, "NOPE", "A")).toBe("A");
    expect(stderr.mock.calls.map(([text]) => String(text))).toEqual([expect.stringContaining("Unknown model NOPE; the server has: A, B.")]);
  });

  it("takes the name, with a warning, when the list cannot be read", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockReturnValue(true);
    const client = clientListing(() => Promise.reject(new ServerError("GET /api/chat/models failed (HTTP 500)", { status: 500 })));
    expect(await checkedModel(client, "Maybe", "A")).toBe("Maybe");
    expect(String(stderr.mock.calls[0]?.[0])).toContain(
      "The server's models could not be read (GET /api/chat/models failed (HTTP 500)): Maybe is used unchecked.",
    );
  });
});
