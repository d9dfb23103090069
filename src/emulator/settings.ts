import { randomBytes } from "node:crypto";
import { ConfigError } from "../errors.js";
import type { EmulatorOptions } from "./emulator.js";
import { FAULT_NAMES, isFault, STREAM_FAULTS, type Fault, type StreamFault } from "./faults.js";
import { MODEL_CONFIGS } from "./models.js";
import type { EventSeparator } from "./token-events-cache.js";

/** EmulatorOptions with defaults applied and values checked. */
export interface EmulatorSettings {
  port: number;
  host: string;
  sessionToken: string;
  cookieName: string;
  pingIntervalMs: number;
  replyTokens: number;
  tokenDelayMs: number;
  pendingEvents: number;
  pendingIntervalMs: number;
  /** ALLOWED_MODEL_CONFIG_NAMES: `"*"` or the listed names. */
  allowedModels: ReadonlySet<string> | "*";
  faults: ReadonlySet<Fault>;
  /** The fault that decides what event streams carry, if any. */
  streamFault: StreamFault | undefined;
  separator: EventSeparator;
  shortFinalMessage: boolean;
  quiet: boolean;
}

export const SECURE_COOKIE_NAME = "__Secure-next-auth.session-token";
export const PLAIN_COOKIE_NAME = "next-auth.session-token";

function checkNumber(name: string, value: number | undefined, fallback: number, min: number, integer: boolean): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < min || (integer && !Number.isInteger(resolved))) {
    const expected = `${integer ? "an integer" : "a number"} >= ${min}`;
    throw new ConfigError(`Emulator option ${name} is ${String(resolved)}`, `Pass ${expected}.`);
  }
  return resolved;
}

export function resolveSettings(options: EmulatorOptions): EmulatorSettings {
  const port = checkNumber("port", options.port, 0, 0, true);
  if (port > 65535) throw new ConfigError(`Emulator option port is ${port}`, "Pass a port from 0 to 65535 (0 picks a free one).");
  const faults = new Set<Fault>();
  for (const fault of options.faults ?? []) {
    if (!isFault(fault)) {
      throw new ConfigError(`Unknown emulator fault "${String(fault)}"`, `Use one of: ${FAULT_NAMES.join(", ")}.`);
    }
    faults.add(fault);
  }
  for (const model of options.models ?? []) {
    if (!MODEL_CONFIGS.has(model)) {
      throw new ConfigError(`Unknown model config name "${model}"`, `Use names from: ${[...MODEL_CONFIGS.keys()].join(", ")}.`);
    }
  }
  const sessionToken = options.sessionToken ?? randomBytes(32).toString("base64url");
  if (!/^[\x21-\x7e]+$/.test(sessionToken) || /[;,"\\]/.test(sessionToken)) {
    throw new ConfigError(
      "Emulator option sessionToken is not usable as a cookie value",
      'Use visible ASCII without spaces, ";", ",", quotes or backslashes (or omit it for a random one).',
    );
  }
  return {
    port,
    host: options.host ?? "127.0.0.1",
    sessionToken,
    cookieName: options.secureCookie ? SECURE_COOKIE_NAME : PLAIN_COOKIE_NAME,
    pingIntervalMs: checkNumber("pingIntervalMs", options.pingIntervalMs, 15_000, 1, false),
    replyTokens: checkNumber("replyTokens", options.replyTokens, 24, 0, true),
    tokenDelayMs: checkNumber("tokenDelayMs", options.tokenDelayMs, 0, 0, false),
    pendingEvents: checkNumber("pendingEvents", options.pendingEvents, 1, 0, true),
    pendingIntervalMs: checkNumber("pendingIntervalMs", options.pendingIntervalMs, 0, 0, false),
    allowedModels: options.models === undefined ? "*" : new Set(options.models),
    faults,
    streamFault: STREAM_FAULTS.find((fault) => faults.has(fault)),
    separator: faults.has("lf") ? "\n" : faults.has("cr") ? "\r" : "\r\n",
    shortFinalMessage: options.shortFinalMessage ?? false,
    quiet: options.quiet ?? false,
  };
}
