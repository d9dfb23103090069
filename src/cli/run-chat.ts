import { text } from "node:stream/consumers";
import { AbortError, ConfigError } from "../errors.js";
import type { Conversation } from "../provider/conversation.js";
import type { OpenAssistantOptions } from "../provider/options.js";
import type { Message } from "../provider/provider-types.js";
import { redactUrl } from "../redact.js";
import { configFilePath, readConfigFile, resolveChatSettings, type ChatFlags, type ChatSettings } from "./config.js";
import { cliAccounts } from "./accounts-state.js";
import type { CliContext } from "./cli-context.js";
import { continuation, keptChatLine, looksLikeChatId, readChat, type Continuation } from "./chat-thread.js";
import { clientOf, DEFAULTS, logSettings } from "./connection.js";
import { warningLine } from "./error-output.js";
import { ExitCode } from "./exit-codes.js";
import { jsonLineForError, writeJsonLine } from "./json-events.js";
import { streamReply } from "./reply-stream.js";
import { findSessionCookies } from "./session-cookies.js";
import { Spinner } from "./spinner.js";
import { onStopSignals, type StopSignal } from "./stop-signals.js";
import { VerboseLog } from "./verbose-log.js";

/** `oasst chat`'s flags: the settings, and which chat the reply goes into. */
export interface ChatCommandFlags extends ChatFlags {
  /** `--continue [id]`: true (no value) for the account's most recent chat. */
  continue?: string | true;
  keep?: boolean;
}

/** The chat a reply goes into: a new one deleted afterwards (the default), a new one kept, or a kept one continued (undefined: the most recent). */
type ChatTarget = { kind: "once" } | { kind: "keep" } | { kind: "continue"; chatId: string | undefined };

/**
 * `oasst chat`: one reply for a prompt given as arguments or on stdin, or an
 * interactive session when there is neither and stdin is a terminal. With --json,
 * any failure also ends stdout with an error line.
 */
export async function runChat(context: CliContext, words: string[], flags: ChatCommandFlags): Promise<void> {
  try {
    await chat(context, words, flags);
  } catch (error) {
    if (flags.json) writeJsonLine(context, jsonLineForError(context, error));
    throw error;
  }
}

/**
 * The prompt and the chat. commander's `--continue [id]` takes the word after it, if any:
 * a word that is not a chat id (a UUID) is given back as the prompt's first word. With no
 * id after `--continue` (other flags came between), a chat id as the prompt's first word names the chat.
 */
export function chatTarget(words: string[], flags: ChatCommandFlags): { prompt: string | undefined; target: ChatTarget } {
  const prompt = (promptWords: string[]) => (promptWords.length > 0 ? promptWords.join(" ") : undefined);
  if (flags.continue === undefined) return { prompt: prompt(words), target: flags.keep ? { kind: "keep" } : { kind: "once" } };
  const value = typeof flags.continue === "string" && flags.continue !== "" ? flags.continue : undefined;
  if (value !== undefined && looksLikeChatId(value)) return { prompt: prompt(words), target: { kind: "continue", chatId: value } };
  if (value !== undefined) return { prompt: prompt([value, ...words]), target: { kind: "continue", chatId: undefined } };
  const [first, ...rest] = words;
  if (first !== undefined && looksLikeChatId(first)) return { prompt: prompt(rest), target: { kind: "continue", chatId: first } };
  return { prompt: prompt(words), target: { kind: "continue", chatId: undefined } };
}

async function chat(context: CliContext, words: string[], flags: ChatCommandFlags): Promise<void> {
  const { prompt: promptArgument, target } = chatTarget(words, flags);
  const json = flags.json === true;
  const interactive = promptArgument === undefined && context.stdin.isTTY === true;
  if (interactive && json) {
    throw new ConfigError("--json needs a prompt", 'Pass it as an argument or on stdin: oasst chat --json "Hello" or echo Hello | oasst chat --json.');
  }
  const config = await readConfigFile(configFilePath(context));
  const settings = resolveChatSettings(context, flags, config, DEFAULTS);
  const prompt = interactive ? undefined : (promptArgument ?? (await text(context.stdin)).replace(/\s+$/, ""));
  if (prompt !== undefined && prompt.trim() === "") {
    throw new ConfigError(
      promptArgument === undefined ? "The prompt read from stdin is empty" : "The prompt is empty",
      'Pass the prompt as an argument (oasst chat "Hello") or on stdin (echo Hello | oasst chat).',
    );
  }

  // The spinner is for people: JSON output gets none.
  const spinner = new Spinner(context, !json);
  const log = new VerboseLog(context, flags.verbose === true, spinner);
  const warn = (message: string) => spinner.above(warningLine(context, message));
  const cookies = await findSessionCookies(context, settings.baseUrl.value, flags, config, warn, settings.baseUrl.from);
  logSettings(log, settings, cookies);
  log.line(`model: ${settings.model.value} (from ${settings.model.from})`);

  const provider: OpenAssistantOptions = {
    ...settings.sampling,
    baseUrl: settings.baseUrl.value,
    cookies: cookies.cookies,
    proxy: settings.proxy,
    timeout: settings.timeout,
    env: context.env,
    accounts: cliAccounts(context),
    onRequest: log.request,
    onWarning: (warning) => warn(warning.message),
    onRetry: ({ error, attempt, delayMs }) => {
      spinner.update(`${error.code === "rate_limit" ? "rate limited" : "server busy"}: retrying in ${Math.ceil(delayMs / 1000)} s`);
      log.line(`retry ${attempt} in ${delayMs} ms after: ${error.summary}`);
    },
  };
  if (prompt === undefined || target.kind === "continue") {
    // The API's other calls: reading the chat to continue, votes.
    const client = clientOf(context, settings, cookies, log);
    try {
      let continued: Continuation | undefined;
      if (target.kind === "continue") {
        continued = continuation(await readChat(client, target.chatId, "--continue"));
        log.line(`continuing chat ${continued.conversation.chatId} after message ${continued.conversation.messageId}`);
      }
      if (prompt === undefined) {
        const serverLabel = redactUrl(settings.baseUrl.value);
        // Loaded here: a one-shot reply has no use for it (nor for node:readline).
        const { runInteractiveSession } = await import("./interactive-session.js");
        await runInteractiveSession(context, { model: settings.model.value, system: settings.system, provider, client, spinner, serverLabel, continued });
        return;
      }
      await replyOnce(context, prompt, settings, provider, { json, spinner }, continued?.conversation);
    } finally {
      await client.close();
    }
    return;
  }
  await replyOnce(context, prompt, settings, provider, { json, spinner }, target.kind === "keep" ? "new" : undefined);
}

/**
 * One reply, in a chat deleted afterwards (`conversation` undefined), a new kept one
 * (`"new"`), or a kept one continued. The first Ctrl-C (SIGINT), SIGTERM or SIGHUP stops
 * it, the provider deletes the chat unless it is kept, and the command exits 130; a second
 * signal exits at once. A reader that closes stdout early (`| head`) stops the reply too,
 * quietly. A kept chat is named on stderr (with --json, in the `message` line).
 */
async function replyOnce(
  context: CliContext,
  prompt: string,
  settings: ChatSettings,
  provider: OpenAssistantOptions,
  view: { json: boolean; spinner: Spinner },
  conversation: Conversation | "new" | undefined,
): Promise<void> {
  const controller = new AbortController();
  let interrupted: StopSignal | undefined;
  let stdoutError: NodeJS.ErrnoException | undefined;
  const stopListening = onStopSignals(context.signals, (signal) => {
    // A second signal ends the process at once (when the run is the process).
    if (interrupted && context.ownsProcess) process.exit(ExitCode.interrupted);
    interrupted = signal;
    controller.abort(new Error(`interrupted (${signal})`));
  });
  // Stays attached: the write that follows a closed pipe fails too, after this function returned.
  context.stdout.on("error", (error: NodeJS.ErrnoException) => {
    stdoutError ??= error;
    controller.abort(error);
  });
  const messages: Message[] = settings.system
    ? [
        { role: "system", content: settings.system },
        { role: "user", content: prompt },
      ]
    : [{ role: "user", content: prompt }];
  let kept: Conversation | undefined;
  const options: OpenAssistantOptions = conversation === undefined ? provider : { ...provider, conversation, onConversation: (handle) => (kept = handle) };
  try {
    await streamReply(context, settings.model.value, messages, { ...options, signal: controller.signal }, { ...view, conversation: () => kept });
    if (kept && !view.json) context.stderr.write(`${keptChatLine(context, kept.chatId)}\n`);
  } catch (caught) {
    if (stdoutError?.code === "EPIPE") return;
    if (stdoutError) throw stdoutError;
    throw interrupted && caught instanceof AbortError ? new AbortError(`Interrupted by ${interrupted}: the reply was stopped`, { cause: caught }) : caught;
  } finally {
    stopListening();
  }
}
