import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { proxyFromEnv } from "../client/proxy.js";
import { configDir } from "../cookies/config-dir.js";
import { BROWSER_NAMES, type BrowserName } from "../cookies/types.js";
import { ConfigError } from "../errors.js";
import type { SamplingOptions } from "../provider/options.js";
import type { CliContext } from "./cli-context.js";
import { keepSecret } from "./error-output.js";
import { NONE, SAMPLING_KEYS, checkSamplingValue, checkTimeout, type SamplingKey } from "./flag-values.js";

/** The flags every command that talks to the server takes. */
export interface ConnectionFlags {
  baseUrl?: string;
  cookie?: string;
  cookiesFile?: string;
  browser?: BrowserName;
  profile?: string;
  proxy?: string;
  /** ms, already checked by the flag parser. */
  timeout?: number;
  verbose?: boolean;
}

/** `oasst chat`'s flags (commander's camelCase names). */
export interface ChatFlags extends ConnectionFlags {
  model?: string;
  system?: string;
  json?: boolean;
  topK?: number | typeof NONE;
  topP?: number | typeof NONE;
  typicalP?: number | typeof NONE;
  temperature?: number | typeof NONE;
  repetitionPenalty?: number | typeof NONE;
  maxNewTokens?: number;
}

const FLAG_OF_SAMPLING_KEY: Readonly<Record<SamplingKey, keyof ChatFlags>> = {
  top_k: "topK",
  top_p: "topP",
  typical_p: "typicalP",
  temperature: "temperature",
  repetition_penalty: "repetitionPenalty",
  max_new_tokens: "maxNewTokens",
};

/** The defaults a config file may hold. */
export interface ConfigFile {
  /** Where it was looked for (it may not exist). */
  path: string;
  /** true: there is no file at `path` (the defaults apply). */
  missing?: boolean;
  baseUrl?: string;
  model?: string;
  cookies?: Record<string, string> | string;
  cookiesFile?: string;
  browser?: BrowserName;
  profile?: string;
  proxy?: string;
  /** ms */
  timeout?: number;
  system?: string;
  sampling: SamplingOptions;
}

const STRING_KEYS = ["baseUrl", "model", "cookiesFile", "profile", "proxy", "system"] as const;
const KNOWN_KEYS: readonly string[] = [...STRING_KEYS, "cookies", "browser", "timeout", ...SAMPLING_KEYS];

/**
 * `oasst/config.json` in the platform's config directory (the one the cookies
 * folder lives in): $XDG_CONFIG_HOME or ~/.config on Linux, ~/Library/Application
 * Support on macOS, %APPDATA% on Windows.
 */
export function configFilePath({ platform, homeDir, env }: Pick<CliContext, "platform" | "homeDir" | "env">): string {
  return join(configDir({ platform, homeDir, env }), "oasst", "config.json");
}

/** Read and check the config file; a missing file is an empty config, a broken one a usage error. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { path, missing: true, sampling: {} };
    throw new ConfigError(
      `The config file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      "Fix its permissions, or remove it.",
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `The config file ${path} is not valid JSON: ${(error as Error).message}`,
      'Fix the JSON, e.g. {"model": "OA_SFT_Llama_30B_6", "timeout": 90}, or remove the file.',
    );
  }
  return checkConfig(parsed, path);
}

function checkConfig(parsed: unknown, path: string): ConfigFile {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`The config file ${path} must hold a JSON object`, 'Write it as {"key": value, …}, e.g. {"model": "OA_SFT_Llama_30B_6"}.');
  }
  const values = parsed as Record<string, unknown>;
  const config: ConfigFile = { path, sampling: {} };
  const where = (key: string) => `${key} in ${path}`;
  for (const [key, value] of Object.entries(values)) {
    if (!KNOWN_KEYS.includes(key)) {
      throw new ConfigError(`The config file ${path} has an unknown key ${JSON.stringify(key)}`, `Known keys: ${KNOWN_KEYS.join(", ")}.`);
    }
    if (value === undefined) continue;
    if ((STRING_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== "string" || value.trim() === "") {
        throw new ConfigError(`${where(key)} must be a non-empty string, not ${JSON.stringify(value)}`, `Write it as "${key}": "…", or remove it.`);
      }
      config[key as (typeof STRING_KEYS)[number]] = value;
    } else if (key === "cookies") {
      config.cookies = checkCookiesValue(value, where(key));
    } else if (key === "browser") {
      if (!BROWSER_NAMES.includes(value as BrowserName)) {
        throw new ConfigError(
          `${where(key)} must be one of ${BROWSER_NAMES.join(", ")}, not ${JSON.stringify(value)}`,
          'Write it as "browser": "firefox", for example.',
        );
      }
      config.browser = value as BrowserName;
    } else if (key === "timeout") {
      config.timeout = checkTimeout(value, where(key));
    } else {
      const sampling = key as SamplingKey;
      const checked = checkSamplingValue(sampling, value, where(key));
      (config.sampling as Record<SamplingKey, number | null>)[sampling] = checked;
    }
  }
  return config;
}

/** Cookies in the config file: a Cookie header string, or an object of name → value. Values are never echoed. */
function checkCookiesValue(value: unknown, where: string): Record<string, string> | string {
  const fix = 'Write it as "cookies": "name=value; …" or as {"name": "value"}.';
  if (typeof value === "string" && value.trim()) return value;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    const bad = entries.find(([, v]) => typeof v !== "string");
    if (entries.length && !bad) return value as Record<string, string>;
    if (bad) throw new ConfigError(`${where}: the cookie ${JSON.stringify(bad[0])} must have a string value`, fix);
  }
  throw new ConfigError(`${where} must be a Cookie header string or an object of cookie values`, fix);
}

/** A value and where it came from, for --verbose. */
export interface Sourced<T> {
  value: T;
  from: string;
}

export interface ConnectionSettings {
  baseUrl: Sourced<string>;
  /** An explicit proxy for the provider; undefined lets the provider read the environment. */
  proxy: string | undefined;
  /** The proxy in effect and its origin, for --verbose (undefined: direct). */
  proxyInEffect: Sourced<string> | undefined;
  /** ms; undefined: the provider's default. */
  timeout: number | undefined;
  config: ConfigFile;
}

export interface ChatSettings extends ConnectionSettings {
  model: Sourced<string>;
  system: string | undefined;
  sampling: SamplingOptions;
}

export interface Defaults {
  baseUrl: string;
  model: string;
}

/**
 * Highest first: flags, environment, config file, built-in defaults. The secrets in the base
 * URL and the proxy join the run's secrets; the site and proxy its error hints.
 */
export function resolveConnectionSettings(context: CliContext, flags: ConnectionFlags, config: ConfigFile, defaults: Defaults): ConnectionSettings {
  const { env } = context;
  const baseUrl = pick([flags.baseUrl, "--base-url"], [env.OASST_BASE_URL, "OASST_BASE_URL"], [config.baseUrl, config.path]) ?? {
    value: defaults.baseUrl,
    from: "default",
  };
  const explicitProxy = pick([flags.proxy, "--proxy"], [env.OASST_PROXY, "OASST_PROXY"]);
  let proxy = explicitProxy?.value;
  let proxyInEffect = explicitProxy;
  if (!explicitProxy) {
    // HTTPS_PROXY & co. outrank the config file; NO_PROXY then applies as the provider reads it.
    const target = urlOrUndefined(baseUrl.value);
    const withoutNoProxy = { ...env, NO_PROXY: undefined, no_proxy: undefined };
    if (target && proxyFromEnv(target, withoutNoProxy)) {
      const fromEnv = proxyFromEnv(target, env);
      proxyInEffect = fromEnv ? { value: fromEnv, from: proxyVariable(target, env) } : undefined;
    } else if (config.proxy) {
      proxy = config.proxy;
      proxyInEffect = { value: config.proxy, from: config.path };
    }
  }
  keepSecret(context, ...secretsOf(baseUrl.value), ...secretsOf(proxyInEffect?.value));
  context.hints.baseUrl = baseUrl;
  context.hints.proxy = proxyInEffect;
  return { baseUrl, proxy, proxyInEffect, timeout: flags.timeout ?? config.timeout, config };
}

export function resolveChatSettings(context: CliContext, flags: ChatFlags, config: ConfigFile, defaults: Defaults): ChatSettings {
  const connection = resolveConnectionSettings(context, flags, config, defaults);
  const { env } = context;
  const model = pick([flags.model, "--model"], [env.OASST_MODEL, "OASST_MODEL"], [config.model, config.path]) ?? { value: defaults.model, from: "default" };
  const sampling: SamplingOptions = { ...config.sampling };
  for (const key of SAMPLING_KEYS) {
    const value = flags[FLAG_OF_SAMPLING_KEY[key]];
    if (value !== undefined) (sampling as Record<SamplingKey, number | null>)[key] = value === NONE ? null : (value as number);
  }
  return { ...connection, model, system: flags.system ?? config.system, sampling };
}

/** The variable proxyFromEnv took the proxy from, in its order, so that errors can name it. */
function proxyVariable(target: URL, env: NodeJS.ProcessEnv): string {
  const names = target.protocol === "https:" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"];
  return [...names, "all_proxy", "ALL_PROXY"].find((name) => env[name]) ?? "the environment";
}

/** The first candidate with a non-blank value. */
function pick(...candidates: Array<[string | undefined, string]>): Sourced<string> | undefined {
  for (const [value, from] of candidates) {
    if (value !== undefined && value.trim() !== "") return { value: value.trim(), from };
  }
  return undefined;
}

/**
 * A URL's secret as written and decoded (either form may end up in a message): its
 * password, or a user name that stands alone (a token, as redactUrl masks it).
 */
function secretsOf(text: string | undefined): string[] {
  const url = text === undefined ? undefined : urlOrUndefined(text);
  const secret = url?.password || url?.username || "";
  if (!secret) return [];
  try {
    return [secret, decodeURIComponent(secret)];
  } catch {
    return [secret];
  }
}

function urlOrUndefined(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
