/** Public API of the `oasst` package. */
export * from "./errors.js";
export type * from "./client/wire-types.js";
export { maskCookieHeader, redactUrl } from "./redact.js";
