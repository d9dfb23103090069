import { OpenAssistantError } from "../errors.js";
import { redactSecrets } from "../redact.js";
import type { CliContext } from "./cli-context.js";
import { cliHint } from "./cli-hints.js";
import { exitCodeFor, type ExitCode } from "./exit-codes.js";
import { stderrPalette } from "./terminal.js";
import { stripTerminalEscapes } from "./terminal-escapes.js";

/**
 * Values that must never be printed (cookie values, proxy passwords), kept in the run's
 * `context.secrets`. Errors are built without them; this is the last line of defence
 * before the terminal.
 */
export function keepSecret(context: CliContext, ...values: Array<string | undefined>): void {
  for (const value of values) if (value) context.secrets.add(value);
}

export function redact(context: CliContext, text: string): string {
  return redactSecrets(text, context.secrets);
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

/** What the run says about an error; `clean` prepares its texts for where they go (default: secrets masked). */
export function errorReport(context: CliContext, error: unknown, clean: (text: string) => string = (text) => redact(context, text)): ErrorReport {
  if (error instanceof OpenAssistantError) {
    return {
      code: error.code,
      summary: clean(error.summary),
      hint: clean(cliHint(error, context.hints)),
      details: error.details.map(clean),
      status: error.status,
    };
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
export function forStderr(context: CliContext, text: string): string {
  return redact(context, stripTerminalEscapes(text));
}

/** What a user sees on stderr: what failed, the details (indented, bounded), then what to do. */
export function printError(context: CliContext, error: unknown): void {
  const { summary, hint, details } = errorReport(context, error, (text) => forStderr(context, text));
  const colors = stderrPalette(context);
  const { stderr } = context;
  stderr.write(`${colors.red(colors.bold("error:"))} ${summary}\n`);
  const shown = details.length > MAX_DETAILS ? [...details.slice(0, MAX_DETAILS - 1), `… and ${details.length - MAX_DETAILS + 1} more`] : details;
  for (const line of shown) stderr.write(`  ${line.length > MAX_DETAIL_WIDTH ? `${line.slice(0, MAX_DETAIL_WIDTH - 1)}…` : line}\n`);
  if (hint) stderr.write(`${colors.yellow("hint:")} ${hint.replace(/\n/g, "\n      ")}\n`);
}

/** Print a failed command's error and return its exit status. */
export function reportFailure(context: CliContext, error: unknown): ExitCode {
  printError(context, error);
  return exitCodeFor(error);
}

/** The line for a warning that does not fail the command (a chat that could not be deleted). */
export function warningLine(context: CliContext, message: string): string {
  return `${stderrPalette(context).yellow("warning:")} ${forStderr(context, message)}`;
}

/** Writes a warning line on stderr: the `onWarning` of a command that draws no spinner. */
export function stderrWarner(context: CliContext): (message: string) => void {
  return (message) => context.stderr.write(`${warningLine(context, message)}\n`);
}
