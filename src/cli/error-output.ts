import { OpenAssistantError } from "../errors.js";
import { redactSecrets } from "../redact.js";
import { cliHint } from "./cli-hints.js";
import { exitCodeFor, type ExitCode } from "./exit-codes.js";
import { stderrPalette } from "./terminal.js";
import { stripTerminalEscapes } from "./terminal-escapes.js";

/**
 * Values that must never be printed (cookie values, proxy passwords). Errors are
 * built without them; this is the last line of defence before the terminal.
 */
const secrets = new Set<string>();

export function keepSecret(...values: Array<string | undefined>): void {
  for (const value of values) if (value) secrets.add(value);
}

export function redact(text: string): string {
  return redactSecrets(text, secrets);
}

export interface ErrorReport {
  code: string;
  /** The cause, one line. */
  summary: string;
  /** The fix, one line or two; empty when there is nothing to do (an interrupt). */
  hint: string;
  /** Lines between the two (the places looked at for cookies). */
  details: string[];
  status: number | undefined;
}

/** A long list (every browser's profile folders) would bury the hint: the first few, then a count. */
const MAX_DETAILS = 8;
const MAX_DETAIL_WIDTH = 160;

export function errorReport(error: unknown, clean: (text: string) => string = redact): ErrorReport {
  if (error instanceof OpenAssistantError) {
    return { code: error.code, summary: clean(error.summary), hint: clean(cliHint(error)), details: error.details.map(clean), status: error.status };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: "internal",
    summary: clean(`Unexpected failure: ${message}`),
    hint: "This is a defect of oasst: please report it with the command you ran and its --verbose output.",
    details: [],
    status: undefined,
  };
}

/**
 * Text for stderr, which is for people (on a terminal, or in a log read on one later):
 * server text in it loses its control sequences, then secrets are masked (after, so
 * that no sequence can split a secret past the mask).
 */
export function forStderr(text: string): string {
  return redact(stripTerminalEscapes(text));
}

/** What a user sees on stderr: what failed, the details (indented, bounded), then what to do. */
export function printError(error: unknown): void {
  const { summary, hint, details } = errorReport(error, forStderr);
  const colors = stderrPalette();
  process.stderr.write(`${colors.red(colors.bold("error:"))} ${summary}\n`);
  const shown = details.length > MAX_DETAILS ? [...details.slice(0, MAX_DETAILS - 1), `… and ${details.length - MAX_DETAILS + 1} more`] : details;
  for (const line of shown) process.stderr.write(`  ${line.length > MAX_DETAIL_WIDTH ? `${line.slice(0, MAX_DETAIL_WIDTH - 1)}…` : line}\n`);
  if (hint) process.stderr.write(`${colors.yellow("hint:")} ${hint.replace(/\n/g, "\n      ")}\n`);
}

/** Print a failed command's error and return its exit status. */
export function reportFailure(error: unknown): ExitCode {
  printError(error);
  return exitCodeFor(error);
}

/** The line for a warning that does not fail the command (a chat that could not be deleted). */
export function warningLine(message: string): string {
  return `${stderrPalette().yellow("warning:")} ${forStderr(message)}`;
}
