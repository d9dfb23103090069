import type { RequestTrailEntry } from "../client/http-transport.js";
import { redactUrl } from "../redact.js";
import type { CliContext } from "./cli-context.js";
import { forStderr } from "./error-output.js";
import type { Spinner } from "./spinner.js";
import { stderrPalette } from "./terminal.js";

/**
 * `--verbose`: the settings in effect and the request trail, on stderr. URLs are
 * printed with any password masked, cookies by name only.
 */
export class VerboseLog {
  readonly #context: CliContext;
  readonly #enabled: boolean;
  readonly #spinner: Spinner | undefined;
  readonly #dim: (text: string) => string;

  constructor(context: CliContext, enabled: boolean, spinner?: Spinner) {
    this.#context = context;
    this.#enabled = enabled;
    this.#spinner = spinner;
    this.#dim = stderrPalette(context).dim;
  }

  line(text: string): void {
    if (!this.#enabled) return;
    // A failure in the trail may quote the server.
    const line = this.#dim(`[oasst] ${forStderr(this.#context, text)}`);
    if (this.#spinner) this.#spinner.above(line);
    else this.#context.stderr.write(`${line}\n`);
  }

  /** One request of the trail: method, URL, status (or the failure), time. */
  readonly request = (entry: RequestTrailEntry): void => {
    const outcome = entry.status !== undefined ? String(entry.status) : `failed: ${entry.error ?? "no answer"}`;
    this.line(`${entry.method} ${redactUrl(entry.url)} → ${outcome} (${Math.round(entry.ms)} ms)`);
  };
}
