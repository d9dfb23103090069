/**
 * The real inference server fails a worker's connection when a reply whose chat was deleted
 * is taken off the queue or finishes: every other reply on that worker is aborted. The
 * emulator does the same, so the fast suite sees what a careless delete does.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Accounts, OpenAssistant, OpenAssistantClient, StreamError } from "../../src/index.js";
import { startEmulator, type Emulator } from "../../src/emulator/index.js";

const MODEL = "OA_SFT_Llama_30B_6";
let server: Emulator | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** Another user's reply, running while the test does its part. */
function bystanderReply(emulator: Emulator): Promise<string> {
  return OpenAssistant.createAsync(MODEL, [{ role: "user", content: "hi" }], {
    baseUrl: emulator.url,
    cookies: emulator.addSession().cookies,
    accounts: new Accounts(),
  });
}

/** A client that posts a reply on a new chat and deletes the chat at once, without reading the reply. */
async function deleteWhileItRuns(emulator: Emulator): Promise<void> {
  const client = new OpenAssistantClient({ baseUrl: emulator.url, cookies: emulator.cookies, env: {} });
  try {
    const chat = await client.createChat();
    const prompter = await client.postPrompterMessage({ chat_id: chat.id, parent_id: null, content: "left alone" });
    await client.postAssistantMessage({
      chat_id: chat.id,
      parent_id: prompter.id,
      model_config_name: MODEL,
      sampling_parameters: { top_k: 50, top_p: null, typical_p: null, temperature: 0.35, repetition_penalty: 1.1, max_new_tokens: 1024 },
      plugins: [],
    });
    await client.deleteChat(chat.id);
  } finally {
    await client.close();
  }
}

describe("a chat deleted while its reply runs", () => {
  it("aborts every other reply of the worker when that reply finishes, as the real server does", async () => {
    server = await startEmulator({ quiet: true, tokenDelayMs: 10, replyTokens: 20 });
    const bystander = bystanderReply(server).catch((error: unknown) => error);
    await deleteWhileItRuns(server);
    const error = await bystander;
    expect(error).toBeInstanceOf(StreamError);
    expect((error as StreamError).serverMessage).toBe("Aborted due to worker error.");
  });

  it("with deleteFailsWorker false, the deleted reply is only dropped", async () => {
    server = await startEmulator({ quiet: true, tokenDelayMs: 10, replyTokens: 20, deleteFailsWorker: false });
    const bystander = bystanderReply(server);
    await deleteWhileItRuns(server);
    await expect(bystander).resolves.toBe(server.expectedReply("hi", { maxNewTokens: 20 }));
  });

  it("the provider leaving a reply early waits for its end before deleting: other replies are untouched", async () => {
    server = await startEmulator({ quiet: true, tokenDelayMs: 10, replyTokens: 20 });
    const bystander = bystanderReply(server);
    for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, [{ role: "user", content: "leaving" }], {
      baseUrl: server.url,
      cookies: server.cookies,
      accounts: new Accounts(),
      onWarning: () => undefined,
    })) {
      expect(piece).not.toBe("");
      break;
    }
    await expect(bystander).resolves.toBe(server.expectedReply("hi", { maxNewTokens: 20 }));
    expect(server.liveChats()).toBe(0);
  });
});
