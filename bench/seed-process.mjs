/**
 * The seed's Python (via seed-runner.py) as a child process: its summary line parsed.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { URL } from "node:url";

export const PYTHON = "/usr/bin/python3";
const RUNNER = new URL("seed-runner.py", import.meta.url).pathname;
export const SEED_REFERENCE = process.env.SEED_REFERENCE ?? new URL("../../shared/bench/seed_reference.py", import.meta.url).pathname;

/** Why the seed cannot run here, or undefined when it can. */
export function seedUnavailable() {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing`;
  if (!existsSync(SEED_REFERENCE)) return `${SEED_REFERENCE} is missing`;
  const probe = spawnSync(PYTHON, ["-c", "import aiohttp"], { encoding: "utf8" });
  if (probe.status !== 0) return "python3-aiohttp is not installed (apt-get install -y python3-aiohttp)";
  return undefined;
}

/**
 * @param {{ url: string, cookie: string }} server
 * @param {{ prompt: string, maxNewTokens?: number, repeat?: number, concurrency?: number }} options
 * @returns {Promise<{ chats: number, tokens: number, chars: number, seconds: number, maxRssKb: number | undefined, code: number | null, stderr: string }>}
 */
export function runSeed(server, options) {
  const args = [RUNNER, "--base-url", server.url, "--cookie", server.cookie, "--prompt", options.prompt, "--quiet", "--rss"];
  if (options.maxNewTokens !== undefined) args.push("--max-new-tokens", String(options.maxNewTokens));
  if (options.repeat !== undefined) args.push("--repeat", String(options.repeat));
  if (options.concurrency !== undefined) args.push("--concurrency", String(options.concurrency));
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH ?? "", SEED_REFERENCE } });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text) => {
      stderr += text;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const line = /seed_reference: chats=(\d+) tokens=(\d+) chars=(\d+) seconds=([\d.]+)/.exec(stderr);
      const rss = /seed_rss: max_rss_kb=(\d+)/.exec(stderr);
      resolve({
        chats: line ? Number(line[1]) : 0,
        tokens: line ? Number(line[2]) : 0,
        chars: line ? Number(line[3]) : 0,
        seconds: line ? Number(line[4]) : NaN,
        maxRssKb: rss ? Number(rss[1]) : undefined,
        code,
        stderr,
      });
    });
  });
}
