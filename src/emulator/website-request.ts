import { isPlainObject } from "./pydantic-validation.js";

/**
 * How the website's handlers read requests before calling the inference server: query
 * values via `req.query` (a repeated name becomes an array), ids interpolated into the
 * upstream path with template strings, bodies destructured and re-sent through axios'
 * JSON encoding (which drops `undefined` and rewrites numbers the way JS prints them).
 */

/** `req.query[name]`, with an array flattened the way a template string flattens it. */
export function queryParam(searchParams: URLSearchParams, name: string): string | undefined {
  const values = searchParams.getAll(name);
  return values.length === 0 ? undefined : values.join(",");
}

/** `${value}` as the website builds upstream paths: a missing id becomes "undefined". */
export function interpolated(value: unknown): string {
  return String(value);
}

/** Destructuring `req.body`: fields of a JSON object; anything else has no fields. */
export function bodyFields(body: unknown): Record<string, unknown> {
  return isPlainObject(body) ? body : {};
}

/** What the inference server receives after axios serializes the forwarded fields. */
export function forwardedJson(fields: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(fields)) as unknown;
}
