import type { RequestTrailEntry } from "../client/http-transport.js";
import { redactUrl } from "../redact.js";
import { forStderr } from "./error-output.js";
import type { Spinner } from "./spinner.js";
import { stderrPalette } from "./terminal.js";

/**
 * `--verbose`: the settings in effect and the request trail, on stderr. URLs are
 * printed with any password masked, cookies by name only.
 */
export class VerboseLog {
  readonly #enabled: boolean;
  readonly #spinner: Spinner | undefined;
  readonly #dim = stderrPalette().dim;

  constructor(enabled: boolean, spinner?: Spinner) {
    this.#enabled = enabled;
    this.#spinner = spinner;
  }

  line(text: string): void {
    if (!this.#enabled) return;
    // A failure in the trail may quote the server.
    const line = this.#dim(`[oasst] ${forStderr(text)}`);
    if (this.#spinner) this.#spinner.above(line);
    else process.stderr.write(`${line}\n`);
  }

  /** One request of the trail: method, URL, status (or the failure), time. */
  readonly request = (entry: RequestTrailEntry): void => {
    const outcome = entry.status !== undefined ? String(entry.status) : `failed: ${entry.error ?? "no answer"}`;
    this.line(`${entry.method} ${redactUrl(entry.url)} → ${outcome} (${Math.round(entry.ms)} ms)`);
  };
}
