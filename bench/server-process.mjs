/**
 * Starts the benchmark server (bench-server.mjs) in a child process and talks to it:
 * its URL and cookie, `status()` (live chats, RSS, CPU time) and `stop()`.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import process from "node:process";
import { URL } from "node:url";

/**
 * @typedef {object} ServerStatus
 * @property {number} liveChats chats created and not deleted
 * @property {number} rss bytes
 * @property {number} cpuMs CPU time the server process used so far (user + system)
 *
 * @typedef {object} BenchServer
 * @property {string} url
 * @property {string} cookie `name=value`
 * @property {Record<string, string>} cookies
 * @property {Record<string, string>[]} sessions every account's cookies, the first one's first
 * @property {number} pid
 * @property {() => Promise<ServerStatus>} status
 * @property {() => Promise<void>} stop
 */

/**
 * @param {{ tokenDelayMs?: number, accounts?: number }} [options] see bench-server.mjs
 * @returns {Promise<BenchServer>}
 */
export async function startBenchServer(options = {}) {
  const args = [new URL("bench-server.mjs", import.meta.url).pathname];
  if (options.tokenDelayMs !== undefined) args.push("--token-delay-ms", String(options.tokenDelayMs));
  if (options.accounts !== undefined) args.push("--accounts", String(options.accounts));
  const child = spawn(process.execPath, args, {
    stdio: ["pipe", "pipe", "inherit"],
    env: { PATH: process.env.PATH ?? "" },
  });
  /** @type {((value: any) => void)[]} */
  const waiting = [];
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.(JSON.parse(line)));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const next = () =>
    new Promise((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(() => reject(new Error("the bench server exited")));
    });
  const info = await next();
  return {
    url: info.url,
    cookie: info.cookie,
    cookies: info.cookies,
    /** Every account's cookies, the first one's first: concurrent chats spread over them. */
    sessions: info.sessions,
    pid: info.pid,
    status() {
      const answer = next();
      child.stdin.write("status\n");
      return answer;
    },
    async stop() {
      if (child.exitCode === null) child.stdin.end("stop\n");
      await exited;
    },
  };
}
