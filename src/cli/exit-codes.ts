import { OpenAssistantError, type OpenAssistantErrorCode } from "../errors.js";

/** The exit status of `oasst`, one per kind of failure: scripts branch on these. */
export const ExitCode = {
  ok: 0,
  usage: 1,
  auth: 2,
  rateLimited: 3,
  server: 4,
  network: 5,
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const BY_ERROR_CODE: Record<OpenAssistantErrorCode, ExitCode> = {
  config: ExitCode.usage,
  // The fix is another --model: the user's choice, not the server's fault.
  model_not_found: ExitCode.usage,
  auth: ExitCode.auth,
  rate_limit: ExitCode.rateLimited,
  server_busy: ExitCode.rateLimited,
  server: ExitCode.server,
  stream: ExitCode.server,
  cancelled: ExitCode.server,
  protocol: ExitCode.server,
  timeout: ExitCode.network,
  connection: ExitCode.network,
  aborted: ExitCode.interrupted,
};

/** A failure the command has already reported on stderr in its own words: only its exit status is left to set. */
export class ReportedFailure extends Error {
  constructor(readonly exitCode: ExitCode) {
    super(`exit status ${exitCode}`);
    this.name = "ReportedFailure";
  }
}

/** Anything that is not an OpenAssistantError is a defect of oasst itself, reported as a usage failure. */
export function exitCodeFor(error: unknown): ExitCode {
  return error instanceof OpenAssistantError ? BY_ERROR_CODE[error.code] : ExitCode.usage;
}
