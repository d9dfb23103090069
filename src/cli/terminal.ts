import type { CliContext, CliOutput } from "./cli-context.js";

/** Colours and terminal facts for the CLI: colours only on a TTY, never when NO_COLOR is set. */

type Style = (text: string) => string;

export interface Palette {
  bold: Style;
  dim: Style;
  red: Style;
  yellow: Style;
  green: Style;
  cyan: Style;
}

/** no-color.org: NO_COLOR set to any non-empty value turns colours off. */
export function colorsEnabled(stream: CliOutput, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

function sgr(open: number, close: number): Style {
  return (text) => `\x1b[${open}m${text}\x1b[${close}m`;
}

const plain: Style = (text) => text;

export function palette(enabled: boolean): Palette {
  if (!enabled) return { bold: plain, dim: plain, red: plain, yellow: plain, green: plain, cyan: plain };
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), yellow: sgr(33, 39), green: sgr(32, 39), cyan: sgr(36, 39) };
}

/** Colours for what goes to stderr (errors, the spinner, the request trail). */
export function stderrPalette(context: CliContext): Palette {
  return palette(colorsEnabled(context.stderr, context.env));
}

/** Colours for what goes to stdout (tables, the interactive prompt). */
export function stdoutPalette(context: CliContext): Palette {
  return palette(colorsEnabled(context.stdout, context.env));
}

/** Erase the current terminal line and put the cursor at its start. */
export const CLEAR_LINE = "\r\x1b[2K";

/** A reader that goes away early (`oasst models | head`) is no failure: later writes are dropped. Other write errors are. */
export function ignoreClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== "EPIPE") throw error;
}
