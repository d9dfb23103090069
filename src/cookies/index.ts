/** Cookie discovery: given cookies, OASST_COOKIES, cookie files and the browsers on this machine. */
export { getCookies, findCookies, clearCookieCache } from "./get-cookies.js";
export { parseCookieHeader, formatCookieHeader } from "./cookie-header.js";
export type {
  BrowserName,
  CommandResult,
  CommandRunner,
  CookieReport,
  Cookies,
  CookieSourceKind,
  FoundCookies,
  GetCookiesOptions,
  SearchedPlace,
} from "./types.js";
