/** Node's fs and child_process errors carry their kind in `code` (ENOENT, EACCES, EBUSY…). */
export function isErrnoCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** The error's code and message, for a "could not be read" line. */
export function describeFsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EBUSY") return "locked by the running browser";
  return error.message;
}
