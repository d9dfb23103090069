import { OpenAssistantClient } from "../client/client.js";
import { OpenAssistant } from "../provider/open-assistant.js";
import { redactUrl } from "../redact.js";
import type { CliContext } from "./cli-context.js";
import { configFilePath, readConfigFile, resolveConnectionSettings, type ConnectionFlags, type ConnectionSettings } from "./config.js";
import { findSessionCookies, type SessionCookies } from "./session-cookies.js";
import type { VerboseLog } from "./verbose-log.js";

/** The built-in defaults: the provider's own. */
export const DEFAULTS = { baseUrl: OpenAssistant.url, model: OpenAssistant.model } as const;

/** `--verbose`: where each setting came from; secrets masked, cookies by name only. */
export function logSettings(log: VerboseLog, settings: ConnectionSettings, cookies: SessionCookies): void {
  log.line(`config file: ${settings.config.missing ? `(none; ${settings.config.path} does not exist)` : settings.config.path}`);
  log.line(`base URL: ${redactUrl(settings.baseUrl.value)} (from ${settings.baseUrl.from})`);
  const proxy = settings.proxyInEffect;
  log.line(proxy ? `proxy: ${redactUrl(proxy.value)} (from ${proxy.from})` : "proxy: none");
  log.line(`cookies: ${Object.keys(cookies.cookies).join(", ")} (from ${cookies.from})`);
  if (settings.timeout !== undefined) log.line(`timeout: ${settings.timeout} ms`);
}

/** For the commands that call the API directly (`models`, `chats`): settings, cookies, and a client. */
export async function openClient(
  context: CliContext,
  flags: ConnectionFlags,
  log: VerboseLog,
  onWarning: (message: string) => void,
): Promise<OpenAssistantClient> {
  const config = await readConfigFile(configFilePath(context));
  const settings = resolveConnectionSettings(context, flags, config, DEFAULTS);
  const cookies = await findSessionCookies(context, settings.baseUrl.value, flags, config, onWarning, settings.baseUrl.from);
  logSettings(log, settings, cookies);
  return clientOf(context, settings, cookies, log);
}

/** A protocol client for these settings and cookies, its requests on the `--verbose` trail. */
export function clientOf(context: CliContext, settings: ConnectionSettings, cookies: SessionCookies, log: VerboseLog): OpenAssistantClient {
  return new OpenAssistantClient({
    baseUrl: settings.baseUrl.value,
    cookies: cookies.cookies,
    proxy: settings.proxy,
    timeout: settings.timeout,
    env: context.env,
    onRequest: log.request,
  });
}
