/** `/model NAME` in the interactive session: checked against the server's list, which may be unreadable. */
import { describe, expect, it } from "vitest";
import type { OpenAssistantClient } from "../../src/client/client.js";
import { ServerError } from "../../src/errors.js";
import { checkedModel } from "../../src/cli/interactive-session.js";
import { inProcessContext } from "../helpers/in-process-cli.js";

function clientListing(listModels: () => Promise<Array<{ name: string }>>): OpenAssistantClient {
  return { listModels } as unknown as OpenAssistantClient;
}

describe("checkedModel", () => {
  it("takes a listed name, and keeps the current model for an unknown one, naming the known ones", async () => {
    const { context, stderr } = inProcessContext({ env: {}, homeDir: "/nonexistent" });
    const client = clientListing(async () => [{ name: "A" }, { name: "B" }]);
    expect(await checkedModel(context, client, "B", "A")).toBe("B");
    expect(await checkedModel(context, client, "NOPE", "A")).toBe("A");
    expect(stderr()).toBe("warning: Unknown model NOPE; the server has: A, B.\n");
  });

  it("takes the name, with a warning, when the list cannot be read", async () => {
    const { context, stderr } = inProcessContext({ env: {}, homeDir: "/nonexistent" });
    const client = clientListing(() => Promise.reject(new ServerError("GET /api/chat/models failed (HTTP 500)", { status: 500 })));
    expect(await checkedModel(context, client, "Maybe", "A")).toBe("Maybe");
    expect(stderr()).toContain("The server's models could not be read (GET /api/chat/models failed (HTTP 500)): Maybe is used unchecked.");
  });
});
