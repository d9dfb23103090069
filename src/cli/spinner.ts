import type { CliContext, CliOutput } from "./cli-context.js";
import { CLEAR_LINE, stderrPalette } from "./terminal.js";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const FRAME_MS = 80;

/**
 * A one-line status on stderr while the reply is queued. It draws only when
 * stderr is a terminal: piped or redirected output gets nothing extra.
 */
export class Spinner {
  readonly #stream: CliOutput;
  readonly #enabled: boolean;
  readonly #cyan: (text: string) => string;
  #text = "";
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  /** On the run's stderr; `enabled` false: a spinner that never draws (JSON output). */
  constructor(context: CliContext, enabled = true) {
    this.#stream = context.stderr;
    this.#enabled = enabled && context.stderr.isTTY === true;
    this.#cyan = stderrPalette(context).cyan;
  }

  /** Show `text`, starting the animation if it is not running. */
  update(text: string): void {
    if (!this.#enabled) return;
    this.#text = text;
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#draw(), FRAME_MS);
      this.#timer.unref();
    }
    this.#draw();
  }

  /** Erase the status line; the next output starts on a clean line. */
  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stream.write(CLEAR_LINE);
  }

  /** Print a whole line on the stream without garbling the status line (which is redrawn below it). */
  above(line: string): void {
    if (this.#timer) this.#stream.write(CLEAR_LINE);
    this.#stream.write(`${line}\n`);
    if (this.#timer) this.#draw();
  }

  #draw(): void {
    const frame = FRAMES[this.#frame++ % FRAMES.length] ?? "";
    this.#stream.write(`${CLEAR_LINE}${this.#cyan(frame)} ${this.#text}`);
  }
}
