/**
 * The real Open-Assistant stack, for the test files of test/real (run by `npm run test:real`,
 * which starts and stops the stack: see global-setup.ts).
 *
 * Stable API (other test files rely on it; add, don't change):
 *
 * - `realStack()` → `{ website, inference, cookie, mintCookie(user, role?) }`
 *     `website`    the site root to pass as `baseUrl` / `--base-url` (http://127.0.0.1:PORT)
 *     `inference`  the inference server root (behind the website)
 *     `cookie`     a Cookie header value for start.sh's user `realstack-user`; shared by
 *                  everyone, so prefer a user of your own
 *     `mintCookie(user, role = "general")` → a Cookie header value
 *                  (`next-auth.session-token=…`) for that user id, as the website's login
 *                  would set it. The same id is the same user (same chats, same rate limit).
 * - `userCookie(prefix = "t")` → the Cookie header value of a brand-new user (`t-<ms>-<pid>-<n>`).
 *     Every test should take its own: the rate limit (20 assistant messages per 600 s) and
 *     the rule that a new assistant message cancels the user's other pending ones are per user.
 * - `uniqueUser(prefix = "t")` → a new user id, unused so far in this run.
 * - `MODEL` → the model the fake worker serves (`OA_SFT_Llama_30B_6`).
 * - `chatIds(cookie)` → the ids of the user's chats on the site, hidden ones included.
 * - `waitForNoChats(cookie, timeoutMs = 5000)` → resolves once the user has no chat left on the
 *     site, else throws naming the chats left.
 *
 * The fake worker replies `You said: <prompter message>\n\nüber 日本語 🙂 <30 lorem words>`, a
 * token every 20 ms; in the prompt, `[[fake:tokens=N]]`, `[[fake:delay=MS]]` (per token),
 * `[[fake:error]]` (2 tokens, then an `error` event) and `[[fake:disconnect]]` (2 tokens, then
 * "Aborted due to worker error.") change that.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { inject } from "vitest";
import { OpenAssistantClient } from "../../src/index.js";
import type { RealStackInfo } from "./global-setup.js";

export const MODEL = "OA_SFT_Llama_30B_6";

export interface RealStack {
  website: string;
  inference: string;
  cookie: string;
  mintCookie(user: string, role?: "general" | "moderator" | "admin" | "banned"): Promise<string>;
}

type Encode = (params: { token: Record<string, unknown>; secret: string; maxAge?: number }) => Promise<string>;
let encodeJwt: Encode | null | undefined;

function info(): RealStackInfo {
  const value = inject("realstack");
  if (!value) throw new Error("test/real runs only through `npm run test:real` (vitest -c vitest.real.config.ts): its global setup provides the stack");
  return value;
}

/** The session token as the website's mint.js makes it: next-auth/jwt `encode` of the website's own copy, in process. */
async function mintToken(stack: RealStackInfo, user: string, role: string): Promise<string> {
  if (encodeJwt === undefined) {
    try {
      const load = createRequire(join(stack.webDir, "package.json"));
      encodeJwt = (load("next-auth/jwt") as { encode: Encode }).encode;
    } catch {
      encodeJwt = null;
    }
  }
  if (encodeJwt) {
    return encodeJwt({ token: { sub: user, name: user, role, backendUserId: `backend-${user}` }, secret: stack.nextAuthSecret, maxAge: 30 * 24 * 60 * 60 });
  }
  // Fallback: the stack's own mint.js in a child process.
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["mint.js", user, role],
      { cwd: stack.webDir, env: { ...process.env, NEXTAUTH_SECRET: stack.nextAuthSecret } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`mint.js ${user} failed: ${stderr || error.message}`));
        else resolve(stdout.trim());
      },
    );
  });
}

export function realStack(): RealStack {
  const stack = info();
  return {
    website: stack.website,
    inference: stack.inference,
    cookie: stack.cookie,
    mintCookie: async (user, role = "general") => `next-auth.session-token=${await mintToken(stack, user, role)}`,
  };
}

let users = 0;
export function uniqueUser(prefix = "t"): string {
  users += 1;
  return `${prefix}-${Date.now()}-${process.pid}-${users}`;
}

export function userCookie(prefix = "t"): Promise<string> {
  return realStack().mintCookie(uniqueUser(prefix));
}

export async function chatIds(cookie: string): Promise<string[]> {
  const client = new OpenAssistantClient({ baseUrl: realStack().website, cookies: cookie, env: {} });
  try {
    const list = await client.listChats({ includeHidden: true });
    return list.chats.map((chat) => chat.id);
  } finally {
    await client.close();
  }
}

export async function waitForNoChats(cookie: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids = await chatIds(cookie);
    if (ids.length === 0) return;
    if (Date.now() > deadline) throw new Error(`chats still on the site after ${timeoutMs} ms: ${ids.join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
