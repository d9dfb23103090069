import type { Command } from "commander";
import { preferBaselineWasm } from "../baseline-wasm.js";
import type { CliContext } from "../cli-context.js";
import { addConnectionFlags } from "../connection-flags.js";
import { samplingFlagParser } from "../flag-values.js";
import type { ChatCommandFlags } from "../run-chat.js";

const EXAMPLES = `
Examples:
  $ oasst chat "Write a haiku about autumn"
  $ echo "Summarize this text: …" | oasst chat
  $ oasst chat --model OA_SFT_Llama_30B_7 --temperature 0.7 --max-new-tokens 256 "Hello"
  $ oasst chat --system "Answer in French." "How are you?"
  $ oasst chat --json "Hello" | jq -r 'select(.type == "token") | .text'
  $ oasst chat                      # interactive: /new, /retry, /good, /bad, /model NAME, /help, /exit
  $ oasst chat --keep "Name a colour."              # a chat that is kept; its id on stderr
  $ oasst chat --continue "And another?"            # goes on with your most recent chat
  $ oasst chat --continue 018a3c5e-7f6b-7c2d-9e1f-0a1b2c3d4e5f "And another?"
  $ oasst chat --continue           # interactive, in your most recent chat

With no prompt and stdin a terminal, oasst chat starts an interactive session in one
chat, kept on the site (the session names it when you leave). Ctrl-C stops a reply;
Ctrl-C or Ctrl-D at an empty prompt leaves.
A one-shot reply's chat is deleted afterwards, unless --keep or --continue keeps it.
--continue takes the word after it (or, with flags between, the prompt's first word)
as the chat to continue only when it is a chat id (a UUID); any other word starts the
prompt. A prompt that itself starts with a UUID goes on stdin.
Exit status: 0 ok, 1 usage, 2 authentication, 3 rate limited or busy,
4 server or stream error, 5 network, 130 interrupted.`;

/** `oasst chat [prompt…]`: stream one reply, or chat interactively. */
export function registerChatCommand(program: Command, context: CliContext): void {
  const command = program
    .command("chat")
    .description("stream the reply to a prompt (argument or stdin), or chat interactively on a terminal")
    .argument("[prompt...]", "the prompt; several words are joined with spaces")
    .option("--model <name>", "the model config name (env OASST_MODEL; default OA_SFT_Llama_30B_6)")
    .option("--system <text>", "a system prompt (a kept chat's replies get it as their system prompt)")
    .option("--temperature <n>", "sampling temperature, 0 or more (default 0.35)", samplingFlagParser("temperature"))
    .option("--top-k <n>", "sample from the k likeliest tokens (default 50; none turns it off)", samplingFlagParser("top_k"))
    .option("--top-p <p>", "nucleus sampling, above 0 and at most 1 (default none)", samplingFlagParser("top_p"))
    .option("--typical-p <p>", "typical sampling, above 0 and at most 1 (default none)", samplingFlagParser("typical_p"))
    .option("--repetition-penalty <n>", "penalty for repeated tokens, above 0 (default 1.111)", samplingFlagParser("repetition_penalty"))
    .option("--max-new-tokens <n>", "the longest reply, in tokens (default 1024)", samplingFlagParser("max_new_tokens"))
    .option("--json", "one JSON object a line on stdout: pending, token, message, error")
    .option("--continue [chat-id]", "go on with this chat (default: your most recent one); a word that is not a chat id (UUID) starts the prompt")
    .option("--keep", "keep the one-shot reply's chat (its id goes to stderr) instead of deleting it");
  addConnectionFlags(command)
    .addHelpText("after", EXAMPLES)
    .action(async (words: string[], flags: ChatCommandFlags) => {
      const { runChat } = await import("../run-chat.js");
      preferBaselineWasm(context);
      await runChat(context, words, flags);
    });
}
