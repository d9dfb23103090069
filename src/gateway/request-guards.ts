import type { MiddlewareHandler } from "hono";
import { GatewayError } from "./openai-errors.js";

/**
 * The names this machine answers to only: a gateway bound to a loopback address accepts
 * these (and its own address) in `Host`. Any other name there comes from a web page of
 * another site whose name was made to point here (DNS rebinding).
 */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "*.localhost", "127.0.0.1", "[::1]"];

/**
 * Refuse requests whose `Host` names none of `allowed` (exact names, `*.domain` for any
 * name under it, `*` for any), port ignored: DNS rebinding gives a web page a name of
 * its own for this address, so it reads the answers as same-origin.
 */
export function hostGuard(allowed: readonly string[]): MiddlewareHandler {
  const patterns = [...new Set(allowed.map(normalHost))];
  return async (c, next) => {
    const host = normalHost(new URL(c.req.url).hostname);
    if (!patterns.some((pattern) => hostMatches(host, pattern))) {
      return new GatewayError(
        403,
        `The host name ${JSON.stringify(host)} (the request's Host header) is not one this gateway answers to: it accepts ${patterns.join(", ")}. ` +
          `If you reach it by that name on purpose, start it with --allowed-host ${host} (option allowedHosts).`,
        { code: "host_not_allowed" },
      ).toResponse();
    }
    await next();
  };
}

/** As URLs spell a host name (lower case, punycode, IPv6 compressed), without a final dot. */
function normalHost(host: string): string {
  const wildcard = host.startsWith("*.") ? "*." : "";
  const name = host.slice(wildcard.length);
  let spelled = name.toLowerCase();
  try {
    spelled = new URL(`http://${name}`).hostname;
  } catch {
    // Not a host name at all: compared as written, it matches nothing.
  }
  return wildcard + spelled.replace(/\.$/, "");
}

function hostMatches(host: string, pattern: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1));
  return host === pattern;
}

/**
 * Refuse requests that carry an `Origin` the `cors` option does not allow. Browsers send
 * a web page's cross-site POST without asking first (a "simple" request) and only keep
 * the answer from the page: without this, any page the user opens could run chats on
 * the gateway's account. Clients other than browsers send no `Origin`.
 */
export function originGuard(cors: string | readonly string[] | undefined): MiddlewareHandler {
  const allowed = new Set(typeof cors === "string" ? [cors] : (cors ?? []));
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && !allowed.has("*") && !allowed.has(origin)) {
      return new GatewayError(
        403,
        `Requests from web pages of ${JSON.stringify(origin)} are refused: a web page may use this gateway (and its Open-Assistant account) only when its origin is allowed. ` +
          `If you trust it, start the gateway with --cors ${origin} (option cors).`,
        { code: "origin_not_allowed" },
      ).toResponse();
    }
    await next();
  };
}

/**
 * Only `Content-Type: application/json` bodies: a browser sends a cross-site POST of any
 * other type (text/plain, a form) without asking, while JSON needs the CORS preflight.
 */
export const jsonBodyGuard: MiddlewareHandler = async (c, next) => {
  const type = c.req.header("content-type");
  if (type?.split(";")[0]?.trim().toLowerCase() !== "application/json") {
    return new GatewayError(
      415,
      `The request body must be JSON, sent with \`Content-Type: application/json\`, not ${type === undefined ? "without a Content-Type" : JSON.stringify(type)}.`,
      { code: "unsupported_media_type" },
    ).toResponse();
  }
  await next();
};
