/**
 * `npm run demo`: start the local Open-Assistant-compatible server on a free port
 * and stream one reply through the provider, exactly as a user's code would.
 */
import { startEmulator } from "../emulator/index.js";
import { OpenAssistant, type Messages } from "../index.js";

const server = await startEmulator({ replyTokens: 48, tokenDelayMs: 35, pendingEvents: 3, pendingIntervalMs: 400, quiet: true });
const dim = (text: string) => (process.stderr.isTTY && !process.env.NO_COLOR ? `\x1b[2m${text}\x1b[22m` : text);

try {
  console.error(dim(`Local Open-Assistant server: ${server.url} (session cookie ${server.cookieName})`));
  const messages: Messages = [{ role: "user", content: "Hello, how are you?" }];
  console.error(dim(`> ${messages[0]!.content}`));

  for await (const text of OpenAssistant.createAsyncGenerator("OA_SFT_Llama_30B_6", messages, {
    baseUrl: server.url,
    cookies: server.cookies,
    onEvent: (event) => {
      if (event.event_type === "pending") console.error(dim(`queued: position ${event.queue_position} of ${event.queue_size}`));
    },
  })) {
    process.stdout.write(text);
  }
  process.stdout.write("\n");
  console.error(dim(`chats left on the server: ${server.liveChats()}`));
} finally {
  await server.stop();
}
