import type { Command } from "commander";
import type { ChatFlags } from "../config.js";
import { addConnectionFlags } from "../connection-flags.js";
import { samplingFlagParser } from "../flag-values.js";

const EXAMPLES = `
Examples:
  $ oasst chat "Write a haiku about autumn"
  $ echo "Summarize this text: …" | oasst chat
  $ oasst chat --model OA_SFT_Llama_30B_7 --temperature 0.7 --max-new-tokens 256 "Hello"
  $ oasst chat --system "Answer in French." "How are you?"
  $ oasst chat --json "Hello" | jq -r 'select(.type == "token") | .text'
  $ oasst chat                      # interactive: /reset, /model NAME, /help, /exit

With no prompt and stdin a terminal, oasst chat starts an interactive session that
keeps the conversation. Ctrl-C stops a reply; Ctrl-C or Ctrl-D at an empty prompt leaves.
Exit status: 0 ok, 1 usage, 2 authentication, 3 rate limited or busy,
4 server or stream error, 5 network, 130 interrupted.`;

/** `oasst chat [prompt…]`: stream one reply, or chat interactively. */
export function registerChatCommand(program: Command): void {
  const command = program
    .command("chat")
    .description("stream the reply to a prompt (argument or stdin), or chat interactively on a terminal")
    .argument("[prompt...]", "the prompt; several words are joined with spaces")
    .option("--model <name>", "the model config name (env OASST_MODEL; default OA_SFT_Llama_30B_6)")
    .option("--system <text>", "a system prompt, sent as the first message")
    .option("--temperature <n>", "sampling temperature, 0 or more (default 0.35)", samplingFlagParser("temperature"))
    .option("--top-k <n>", "sample from the k likeliest tokens (default 50; none turns it off)", samplingFlagParser("top_k"))
    .option("--top-p <p>", "nucleus sampling, above 0 and at most 1 (default none)", samplingFlagParser("top_p"))
    .option("--typical-p <p>", "typical sampling, above 0 and at most 1 (default none)", samplingFlagParser("typical_p"))
    .option("--repetition-penalty <n>", "penalty for repeated tokens, above 0 (default 1.111)", samplingFlagParser("repetition_penalty"))
    .option("--max-new-tokens <n>", "the longest reply, in tokens (default 1024)", samplingFlagParser("max_new_tokens"))
    .option("--json", "one JSON object a line on stdout: pending, token, message, error");
  addConnectionFlags(command)
    .addHelpText("after", EXAMPLES)
    .action(async (words: string[], flags: ChatFlags) => {
      const { runChat } = await import("../run-chat.js");
      await runChat(words.length > 0 ? words.join(" ") : undefined, flags);
    });
}
