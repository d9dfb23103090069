import { ConfigError } from "../errors.js";

/** The sampling parameters, as the provider and the config file name them. */
export type SamplingKey = "top_k" | "top_p" | "typical_p" | "temperature" | "repetition_penalty" | "max_new_tokens";

interface SamplingRule {
  flag: string;
  integer: boolean;
  /** Smallest accepted value, and whether it is itself accepted. */
  min: number;
  minInclusive: boolean;
  max?: number;
  /** `none` (null in the config file) sends null: the server then skips that kind of sampling. */
  nullable: boolean;
  example: string;
}

const SAMPLING_RULES: Readonly<Record<SamplingKey, SamplingRule>> = {
  top_k: { flag: "--top-k", integer: true, min: 0, minInclusive: true, nullable: true, example: "50" },
  top_p: { flag: "--top-p", integer: false, min: 0, minInclusive: false, max: 1, nullable: true, example: "0.95" },
  typical_p: { flag: "--typical-p", integer: false, min: 0, minInclusive: false, max: 1, nullable: true, example: "0.2" },
  temperature: { flag: "--temperature", integer: false, min: 0, minInclusive: true, nullable: true, example: "0.7" },
  repetition_penalty: { flag: "--repetition-penalty", integer: false, min: 0, minInclusive: false, nullable: true, example: "1.2" },
  max_new_tokens: { flag: "--max-new-tokens", integer: true, min: 1, minInclusive: true, nullable: false, example: "512" },
};

export const SAMPLING_KEYS = Object.keys(SAMPLING_RULES) as SamplingKey[];

function describeRange(rule: SamplingRule): string {
  const kind = rule.integer ? "a whole number" : "a number";
  const low = `${rule.minInclusive ? "at least" : "above"} ${rule.min}`;
  const high = rule.max === undefined ? "" : ` and at most ${rule.max}`;
  return `${kind} ${low}${high}`;
}

/**
 * Check one sampling value. `where` names its origin for the error ("--top-k",
 * "top_k in /home/me/.config/oasst/config.json"); `value` is a flag's text or a config value.
 */
export function checkSamplingValue(key: SamplingKey, value: unknown, where: string): number | null {
  const rule = SAMPLING_RULES[key];
  const fix = `Use ${describeRange(rule)}${rule.nullable ? ", or none to let the server decide" : ""}, e.g. ${rule.flag} ${rule.example}.`;
  if (rule.nullable && (value === null || (typeof value === "string" && value.trim().toLowerCase() === "none"))) return null;
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number)) {
    throw new ConfigError(`${where} must be a number, not ${JSON.stringify(value)}`, fix);
  }
  const tooLow = rule.minInclusive ? number < rule.min : number <= rule.min;
  if ((rule.integer && !Number.isInteger(number)) || tooLow || (rule.max !== undefined && number > rule.max)) {
    throw new ConfigError(`${where} must be ${describeRange(rule)}, not ${number}`, fix);
  }
  return number;
}

/** A sampling flag's `none`: commander turns a parser's null into "", so the word itself stands for null. */
export const NONE = "none";

/** A commander parser for a sampling flag. */
export function samplingFlagParser(key: SamplingKey): (text: string) => number | typeof NONE {
  return (text) => checkSamplingValue(key, text, SAMPLING_RULES[key].flag) ?? NONE;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A timeout in ms from `90` (seconds), `90s`, `1500ms`, `2m` or `24h`; 0 turns the limit off.
 * A config file may give a plain number (seconds) too.
 */
export function checkTimeout(value: unknown, where: string): number {
  const fix = "Give seconds (90), or a number with a unit: 1500ms, 90s, 2m, 1h; 0 waits forever.";
  const text = typeof value === "number" ? String(value) : value;
  const match = typeof text === "string" ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text) : null;
  if (!match) {
    const negative = typeof text === "string" && /^\s*-/.test(text);
    throw new ConfigError(`${where} must be a ${negative ? "positive " : ""}duration, not ${JSON.stringify(value)}`, fix);
  }
  const unit = (match[2] ?? "s").toLowerCase();
  return Math.round(Number(match[1]) * (DURATION_UNITS_MS[unit] ?? 1000));
}

export function timeoutFlagParser(text: string): number {
  return checkTimeout(text, "--timeout");
}
