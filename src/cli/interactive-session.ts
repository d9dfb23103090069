import { createInterface, type Interface } from "node:readline";
import type { OpenAssistantClient } from "../client/client.js";
import type { Conversation } from "../provider/conversation.js";
import type { OpenAssistantOptions } from "../provider/options.js";
import type { Message } from "../provider/provider-types.js";
import { keptChatLine } from "./chat-thread.js";
import type { CliContext } from "./cli-context.js";
import { errorReport, printError, stderrWarner } from "./error-output.js";
import { streamReply } from "./reply-stream.js";
import type { Spinner } from "./spinner.js";
import { onStopSignals } from "./stop-signals.js";
import { stderrPalette, stdoutPalette } from "./terminal.js";
import { stripTerminalEscapes } from "./terminal-escapes.js";

export interface SessionOptions {
  model: string;
  /** Sent with every message, as the reply's system prompt, when set. */
  system: string | undefined;
  /** The provider's options for every reply (the session adds the conversation and the abort signal). */
  provider: OpenAssistantOptions;
  /** For votes; the caller closes it. */
  client: OpenAssistantClient;
  spinner: Spinner;
  /** Shown in the greeting, already redacted. */
  serverLabel: string;
  /** A chat to go on with (`oasst chat --continue`): the reply to continue from, and the exchange it ends, shown first. */
  continued?: { conversation: Conversation; prompt: string; reply: string } | undefined;
}

const HELP = [
  "/new           start a new chat; the current one stays on the site (/reset does the same)",
  "/retry         another reply to your last message, in place of the last reply",
  "/good, /bad    vote the last reply up or down",
  "/model NAME    switch the model (/model alone shows it)",
  "/help          this list",
  "/exit          leave (Ctrl-D at an empty prompt does too)",
  "Ctrl-C stops a reply; at an empty prompt it leaves.",
].join("\n");

/**
 * The interactive chat: one chat on the server, kept, continued with each message (only
 * the new message is sent; the server holds the history). A failed or stopped reply
 * leaves the chat where it was: the next message goes on from the last whole reply.
 * Ctrl-C during a reply stops that reply; Ctrl-C or Ctrl-D at an empty prompt ends the
 * session, which then names the kept chat on stderr.
 */
export async function runInteractiveSession(context: CliContext, options: SessionOptions): Promise<void> {
  const { stdin, stdout, stderr } = context;
  const out = stdoutPalette(context);
  /** Where the next message goes: under this reply, or (undefined) into a new chat. */
  let conversation: Conversation | undefined = options.continued?.conversation;
  /** The chat of the last whole reply: it outlives `/new`, and is named on leaving. */
  let lastChatId = conversation?.chatId;
  let model = options.model;
  const systemMessages: Message[] = options.system ? [{ role: "system", content: options.system }] : [];
  const rl = createInterface({
    input: stdin,
    output: stdout,
    prompt: out.bold(out.cyan("you> ")),
    historySize: 1000,
    removeHistoryDuplicates: true,
  });
  rl.on("SIGINT", () => onPromptInterrupt(context, rl));
  rl.on("close", () => stdout.write("\n"));

  const note = (text: string) => stdout.write(`${out.dim(text)}\n`);
  const shown = (text: string) => (stdout.isTTY ? stripTerminalEscapes(text) : text);
  const label = out.green("assistant> ");
  const reply = async (messages: Message[], regenerate: boolean): Promise<boolean> => {
    const provider: OpenAssistantOptions = {
      ...options.provider,
      conversation: conversation ?? "new",
      ...(regenerate ? { regenerate: true } : {}),
      onConversation: (handle) => {
        conversation = handle;
        lastChatId = handle.chatId;
      },
    };
    return replyStopped(context, rl, model, messages, provider, options.spinner, label);
  };
  const vote = async (score: 1 | -1) => {
    if (!conversation) {
      note("There is no reply to vote on yet.");
      return;
    }
    try {
      await options.client.vote({ chatId: conversation.chatId, messageId: conversation.messageId, score });
      note(score > 0 ? "voted: good" : "voted: bad");
    } catch (error) {
      printError(context, error);
    }
  };

  const continuing = options.continued ? `, continuing chat ${stripTerminalEscapes(options.continued.conversation.chatId)}` : "";
  stderr.write(stderrPalette(context).dim(`oasst chat: ${model} at ${options.serverLabel}${continuing}. /help lists the commands; Ctrl-D leaves.\n`));
  if (options.continued) {
    stdout.write(`${out.bold(out.cyan("you> "))}${shown(options.continued.prompt)}\n${label}${shown(options.continued.reply)}\n`);
  }
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    let terminated = false;
    if (text.startsWith("/")) {
      const [command = "", ...rest] = text.split(/\s+/);
      const argument = rest.join(" ");
      if (command === "/exit" || command === "/quit") break;
      if (command === "/new" || command === "/reset") {
        const previous = conversation ? ` The last one stays on the site: oasst chat --continue ${stripTerminalEscapes(conversation.chatId)}` : "";
        conversation = undefined;
        note(`New chat: your next message starts it.${previous}`);
      } else if (command === "/retry") {
        if (conversation) terminated = await reply(systemMessages, true);
        else note("There is no reply to retry yet.");
      } else if (command === "/good" || command === "/bad") {
        await vote(command === "/good" ? 1 : -1);
      } else if (command === "/model") {
        if (argument) model = await checkedModel(context, options.client, argument, model);
        note(`model: ${model}`);
      } else if (command === "/help") {
        note(HELP);
      } else {
        note(`Unknown command ${command}: /help lists the commands.`);
      }
    } else if (text) {
      terminated = await reply([...systemMessages, { role: "user", content: line }], false);
    }
    if (terminated) break;
    rl.prompt();
  }
  rl.close();
  if (lastChatId !== undefined) stderr.write(`${keptChatLine(context, lastChatId)}\n`);
}

/**
 * `/model NAME`: a name the server lists, else the model stays (the known names are shown);
 * a list that cannot be read lets the name through, with a warning.
 */
export async function checkedModel(context: CliContext, client: OpenAssistantClient, name: string, current: string): Promise<string> {
  const warn = stderrWarner(context);
  let known: string[];
  try {
    known = (await client.listModels()).map((info) => info.name);
  } catch (error) {
    warn(`The server's models could not be read (${errorReport(context, error).summary}): ${name} is used unchecked.`);
    return name;
  }
  if (known.includes(name)) return name;
  warn(`Unknown model ${name}; the server has: ${known.join(", ")}.`);
  return current;
}

/** Ctrl-C at the prompt: with text typed, drop it (as shells do); on an empty line, leave. */
function onPromptInterrupt(context: CliContext, rl: Interface): void {
  if (rl.line === "") {
    rl.close();
    return;
  }
  rl.write(null, { ctrl: true, name: "e" });
  context.stdout.write("^C\n");
  rl.write(null, { ctrl: true, name: "u" });
}

/**
 * One reply, with Ctrl-C as a real SIGINT: the terminal leaves raw mode while the
 * reply streams, so the keystroke reaches the process even though readline is paused.
 * A failure is printed, a stop noted; either way the session goes on. SIGTERM and SIGHUP
 * stop the reply too and end the session: the result is true then.
 */
async function replyStopped(
  context: CliContext,
  rl: Interface,
  model: string,
  messages: Message[],
  provider: OpenAssistantOptions,
  spinner: Spinner,
  label: string,
): Promise<boolean> {
  const controller = new AbortController();
  let terminated = false;
  const stopListening = onStopSignals(context.signals, (signal) => {
    terminated ||= signal !== "SIGINT";
    controller.abort(new Error(`stopped with ${signal}`));
  });
  rl.pause();
  setRawMode(context, rl, false);
  try {
    await streamReply(context, model, messages, { ...provider, signal: controller.signal }, { json: false, spinner, label });
  } catch (error) {
    if (controller.signal.aborted) context.stdout.write(`${stdoutPalette(context).dim("(reply stopped)")}\n`);
    else printError(context, error);
  } finally {
    stopListening();
    setRawMode(context, rl, true);
    rl.resume();
  }
  return terminated;
}

/** Only a readline that edits lines itself (stdout a terminal too) runs the terminal in raw mode. */
function setRawMode({ stdin }: CliContext, rl: Interface, raw: boolean): void {
  if (rl.terminal && stdin.isTTY) stdin.setRawMode?.(raw);
}
