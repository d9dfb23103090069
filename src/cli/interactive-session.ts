import { createInterface, type Interface } from "node:readline";
import type { OpenAssistantOptions } from "../provider/options.js";
import type { Message } from "../provider/provider-types.js";
import { printError } from "./error-output.js";
import { streamReply } from "./reply-stream.js";
import type { Spinner } from "./spinner.js";
import { onStopSignals } from "./stop-signals.js";
import { stderrPalette, stdoutPalette } from "./terminal.js";

export interface SessionOptions {
  model: string;
  /** Sent as the first message of every request when set. */
  system: string | undefined;
  /** The provider's options for every reply (the session adds the abort signal). */
  provider: OpenAssistantOptions;
  spinner: Spinner;
  /** Shown in the greeting, already redacted. */
  serverLabel: string;
}

const HELP = [
  "/reset         forget the conversation",
  "/model NAME    switch the model (/model alone shows it)",
  "/help          this list",
  "/exit          leave (Ctrl-D at an empty prompt does too)",
  "Ctrl-C stops a reply; at an empty prompt it leaves.",
].join("\n");

/**
 * The interactive chat: one conversation, sent whole with each message (the
 * provider formats it as the seed does). Ctrl-C during a reply stops that reply
 * and deletes its chat; Ctrl-C or Ctrl-D at an empty prompt ends the session.
 */
export async function runInteractiveSession(options: SessionOptions): Promise<void> {
  const out = stdoutPalette();
  const conversation: Message[] = [];
  let model = options.model;
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: out.bold(out.cyan("you> ")),
    historySize: 1000,
    removeHistoryDuplicates: true,
  });
  rl.on("SIGINT", () => onPromptInterrupt(rl));
  rl.on("close", () => process.stdout.write("\n"));

  const note = (text: string) => process.stdout.write(`${out.dim(text)}\n`);
  process.stderr.write(stderrPalette().dim(`oasst chat: ${model} at ${options.serverLabel}. /help lists the commands; Ctrl-D leaves.\n`));
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text.startsWith("/")) {
      const [command = "", ...rest] = text.split(/\s+/);
      const argument = rest.join(" ");
      if (command === "/exit" || command === "/quit") break;
      if (command === "/reset") {
        conversation.length = 0;
        note("The conversation is cleared.");
      } else if (command === "/model") {
        if (argument) model = argument;
        note(`model: ${model}`);
      } else if (command === "/help") {
        note(HELP);
      } else {
        note(`Unknown command ${command}: /help lists the commands.`);
      }
    } else if (text) {
      conversation.push({ role: "user", content: line });
      const messages: Message[] = options.system ? [{ role: "system", content: options.system }, ...conversation] : [...conversation];
      const { reply, terminated } = await replyOrUndefined(rl, model, messages, options, out.green("assistant> "));
      if (reply === undefined) conversation.pop();
      else conversation.push({ role: "assistant", content: reply });
      if (terminated) break;
    }
    rl.prompt();
  }
  rl.close();
}

/** Ctrl-C at the prompt: with text typed, drop it (as shells do); on an empty line, leave. */
function onPromptInterrupt(rl: Interface): void {
  if (rl.line === "") {
    rl.close();
    return;
  }
  rl.write(null, { ctrl: true, name: "e" });
  process.stdout.write("^C\n");
  rl.write(null, { ctrl: true, name: "u" });
}

/**
 * One reply, with Ctrl-C as a real SIGINT: the terminal leaves raw mode while the
 * reply streams, so the keystroke reaches the process even though readline is paused.
 * The reply is undefined when it failed or was stopped (the error is printed). SIGTERM
 * and SIGHUP stop it too (its chat is deleted) and end the session (`terminated`).
 */
async function replyOrUndefined(
  rl: Interface,
  model: string,
  messages: Message[],
  options: SessionOptions,
  label: string,
): Promise<{ reply: string | undefined; terminated: boolean }> {
  const controller = new AbortController();
  let terminated = false;
  const stopListening = onStopSignals((signal) => {
    terminated ||= signal !== "SIGINT";
    controller.abort(new Error(`stopped with ${signal}`));
  });
  rl.pause();
  setRawMode(rl, false);
  try {
    const reply = await streamReply(model, messages, { ...options.provider, signal: controller.signal }, { json: false, spinner: options.spinner, label });
    return { reply, terminated };
  } catch (error) {
    if (controller.signal.aborted) process.stdout.write(`${stdoutPalette().dim("(reply stopped)")}\n`);
    else printError(error);
    return { reply: undefined, terminated };
  } finally {
    stopListening();
    setRawMode(rl, true);
    rl.resume();
  }
}

/** Only a readline that edits lines itself (stdout a terminal too) runs the terminal in raw mode. */
function setRawMode(rl: Interface, raw: boolean): void {
  if (rl.terminal && process.stdin.isTTY) process.stdin.setRawMode(raw);
}
