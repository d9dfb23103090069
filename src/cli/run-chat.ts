import { text } from "node:stream/consumers";
import { AbortError, ConfigError } from "../errors.js";
import type { OpenAssistantOptions } from "../provider/options.js";
import type { Message } from "../provider/provider-types.js";
import { redactUrl } from "../redact.js";
import { configFilePath, readConfigFile, resolveChatSettings, type ChatFlags, type ChatSettings } from "./config.js";
import { cliAccounts } from "./accounts-state.js";
import { DEFAULTS, logSettings } from "./connection.js";
import { warningLine } from "./error-output.js";
import { ExitCode } from "./exit-codes.js";
import { runInteractiveSession } from "./interactive-session.js";
import { jsonLineForError, writeJsonLine } from "./json-events.js";
import { streamReply } from "./reply-stream.js";
import { findSessionCookies } from "./session-cookies.js";
import { Spinner } from "./spinner.js";
import { onStopSignals, type StopSignal } from "./stop-signals.js";
import { VerboseLog } from "./verbose-log.js";

/**
 * `oasst chat`: one reply for a prompt given as an argument or on stdin, or an
 * interactive session when there is neither and stdin is a terminal. With --json,
 * any failure also ends stdout with an error line.
 */
export async function runChat(promptArgument: string | undefined, flags: ChatFlags): Promise<void> {
  try {
    await chat(promptArgument, flags);
  } catch (error) {
    if (flags.json) writeJsonLine(jsonLineForError(error));
    throw error;
  }
}

async function chat(promptArgument: string | undefined, flags: ChatFlags): Promise<void> {
  const json = flags.json === true;
  const interactive = promptArgument === undefined && process.stdin.isTTY === true;
  if (interactive && json) {
    throw new ConfigError("--json needs a prompt", 'Pass it as an argument or on stdin: oasst chat --json "Hello" or echo Hello | oasst chat --json.');
  }
  const config = await readConfigFile(configFilePath(process.env));
  const settings = resolveChatSettings(flags, process.env, config, DEFAULTS);
  const prompt = interactive ? undefined : (promptArgument ?? (await text(process.stdin)).replace(/\s+$/, ""));
  if (prompt !== undefined && prompt.trim() === "") {
    throw new ConfigError(
      promptArgument === undefined ? "The prompt read from stdin is empty" : "The prompt is empty",
      'Pass the prompt as an argument (oasst chat "Hello") or on stdin (echo Hello | oasst chat).',
    );
  }

  // The spinner is for people: JSON output gets none.
  const spinner = new Spinner(!json);
  const log = new VerboseLog(flags.verbose === true, spinner);
  const warn = (message: string) => spinner.above(warningLine(message));
  const cookies = await findSessionCookies(settings.baseUrl.value, flags, process.env, config, warn);
  logSettings(log, settings, cookies);
  log.line(`model: ${settings.model.value} (from ${settings.model.from})`);

  const provider: OpenAssistantOptions = {
    ...settings.sampling,
    baseUrl: settings.baseUrl.value,
    cookies: cookies.cookies,
    proxy: settings.proxy,
    timeout: settings.timeout,
    env: process.env,
    accounts: cliAccounts(process.env),
    onRequest: log.request,
    onWarning: (warning) => warn(warning.message),
    onRetry: ({ error, attempt, delayMs }) => {
      spinner.update(`${error.code === "rate_limit" ? "rate limited" : "server busy"}: retrying in ${Math.ceil(delayMs / 1000)} s`);
      log.line(`retry ${attempt} in ${delayMs} ms after: ${error.summary}`);
    },
  };
  if (prompt === undefined) {
    await runInteractiveSession({ model: settings.model.value, system: settings.system, provider, spinner, serverLabel: redactUrl(settings.baseUrl.value) });
    return;
  }
  await replyOnce(prompt, settings, provider, { json, spinner });
}

/**
 * One reply. The first Ctrl-C (SIGINT), SIGTERM or SIGHUP stops it, the provider
 * deletes the chat, and the command exits 130; a second signal exits at once. A reader
 * that closes stdout early (`| head`) stops the reply too, quietly.
 */
async function replyOnce(prompt: string, settings: ChatSettings, provider: OpenAssistantOptions, view: { json: boolean; spinner: Spinner }): Promise<void> {
  const controller = new AbortController();
  let interrupted: StopSignal | undefined;
  let stdoutError: NodeJS.ErrnoException | undefined;
  const stopListening = onStopSignals((signal) => {
    if (interrupted) process.exit(ExitCode.interrupted);
    interrupted = signal;
    controller.abort(new Error(`interrupted (${signal})`));
  });
  // Stays attached: the write that follows a closed pipe fails too, after this function returned.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    stdoutError ??= error;
    controller.abort(error);
  });
  const messages: Message[] = settings.system
    ? [
        { role: "system", content: settings.system },
        { role: "user", content: prompt },
      ]
    : [{ role: "user", content: prompt }];
  try {
    await streamReply(settings.model.value, messages, { ...provider, signal: controller.signal }, view);
  } catch (caught) {
    if (stdoutError?.code === "EPIPE") return;
    if (stdoutError) throw stdoutError;
    throw interrupted && caught instanceof AbortError ? new AbortError(`Interrupted by ${interrupted}: the reply was stopped`, { cause: caught }) : caught;
  } finally {
    stopListening();
  }
}
