/**
 * `npm run demo`: start the local Open-Assistant-compatible server on a free port
 * and stream one reply through the provider, exactly as a user's code would. The reply
 * is synthetic text unless OASST_UPSTREAM names an OpenAI-compatible model server.
 */
import { startEmulator } from "../emulator/index.js";
import { OpenAssistant, StreamError, type Messages } from "../index.js";

const upstreamUrl = process.env.OASST_UPSTREAM;
const server = await startEmulator(
  upstreamUrl
    ? {
        upstream: { baseUrl: upstreamUrl, apiKey: process.env.OASST_UPSTREAM_API_KEY || undefined, model: process.env.OASST_UPSTREAM_MODEL || undefined },
        quiet: true,
      }
    : { replyTokens: 48, tokenDelayMs: 35, pendingEvents: 3, pendingIntervalMs: 400, quiet: true },
);
const dim = (text: string) => (process.stderr.isTTY && !process.env.NO_COLOR ? `\x1b[2m${text}\x1b[22m` : text);

try {
  console.error(dim(`Local Open-Assistant-compatible server (the emulator): ${server.url}`));
  console.error(
    dim(
      upstreamUrl
        ? `Its replies come from the model server at ${upstreamUrl}.`
        : "Its replies are synthetic: random words, no model. Set OASST_UPSTREAM to a model server for real ones (see below).",
    ),
  );
  const messages: Messages = [{ role: "user", content: "Hello, how are you?" }];
  console.error(dim(`> ${messages[0]!.content}`));

  try {
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
  } catch (error) {
    if (!upstreamUrl || !(error instanceof StreamError)) throw error;
    // The emulator runs quiet here, so the upstream's own error is not shown: name the usual causes.
    console.error(
      `The model server at ${upstreamUrl} failed the request. Is it running, is the URL its OpenAI-compatible base (often ending in /v1), ` +
        `and does it serve the model ${process.env.OASST_UPSTREAM_MODEL || "OA_SFT_Llama_30B_6"}? OASST_UPSTREAM_MODEL picks the model; ` +
        "`oasst emulate --upstream URL` logs the exact error.",
    );
    process.exitCode = 1;
  }
  console.error(dim(`chats left on the server: ${server.liveChats()}`));
  console.error(
    dim(`
Next steps:
  - Your own Open-Assistant site: pass its URL and your browser's session cookie,
      oasst chat --base-url https://your-site.example --cookie '__Secure-next-auth.session-token=…' "Hello"
    or in code: { baseUrl, cookies } (docs/cookies.md tells how to copy the cookie).
  - Real replies from a local model (Ollama, llama.cpp's server, vLLM, LM Studio):
      oasst emulate --upstream http://127.0.0.1:11434/v1 --upstream-model llama3.2
      OASST_UPSTREAM=http://127.0.0.1:11434/v1 OASST_UPSTREAM_MODEL=llama3.2 npm run demo
  - The docs: README.md, docs/cli.md, docs/emulator.md, docs/ai-sdk.md.`),
  );
} finally {
  await server.stop();
}
