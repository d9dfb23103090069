/**
 * NextAuth's session cookie, the one Open-Assistant's site logs in with: `__Secure-`
 * on https, plain on http, and split into `<name>.0`, `<name>.1`… when it is large.
 */
export const SESSION_COOKIE_NAMES: readonly string[] = ["__Secure-next-auth.session-token", "next-auth.session-token"];

/** The name without a chunk suffix: the pieces of one split cookie belong together. */
export function cookieGroup(name: string): string {
  return name.replace(/\.\d+$/, "");
}

export function isSessionCookie(name: string): boolean {
  return SESSION_COOKIE_NAMES.includes(cookieGroup(name));
}
