/**
 * Global setup of the real-stack suite (vitest.real.config.ts): the real Open-Assistant chat
 * stack (website /api/chat routes, inference server, Postgres, Redis, fake model worker) from
 * the realstack folder.
 *
 * - The folder: env OASST_REALSTACK_DIR, else `<repo>/../shared/realstack`.
 * - Default: runs its `setup.sh` (idempotent) and `start.sh`, their output streamed to stderr
 *   with a `[realstack …]` prefix, and `stop.sh` at teardown (also when setup or a test fails).
 * - OASST_REALSTACK_RUNNING=1: reuses a stack already started with `start.sh`
 *   (reads /tmp/realstack.env; neither starts nor stops anything).
 *
 * What it finds is handed to the tests with vitest's `provide` (key `realstack`); tests read it
 * through test/real/stack.ts, not directly.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

/** What the tests get (`inject("realstack")`). */
export interface RealStackInfo {
  /** The website root, e.g. http://127.0.0.1:3710 (the package's `baseUrl`). */
  website: string;
  /** The inference server root (the website talks to it; tests rarely need it). */
  inference: string;
  /** A Cookie header value for start.sh's own user (`realstack-user`). */
  cookie: string;
  /** The realstack folder (setup.sh, start.sh, mint.sh, stop.sh). */
  dir: string;
  /** The built website app (mint.js and its next-auth live there). */
  webDir: string;
  /** The NEXTAUTH_SECRET the running website checks session cookies with. */
  nextAuthSecret: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    realstack: RealStackInfo;
  }
}

const ENV_FILE = "/tmp/realstack.env";
const REPO = fileURLToPath(new URL("../..", import.meta.url));

function fail(lines: string[]): never {
  throw new Error(["", "real-stack suite cannot start:", ...lines.map((line) => `  ${line}`), ""].join("\n"));
}

function locateStack(): string {
  const fromEnv = process.env.OASST_REALSTACK_DIR;
  const dir = resolve(fromEnv || resolve(REPO, "../shared/realstack"));
  const scripts = ["setup.sh", "start.sh", "stop.sh", "mint.sh"];
  const missing = scripts.filter((name) => !existsSync(resolve(dir, name)));
  if (missing.length > 0) {
    fail([
      existsSync(dir) ? `${dir} has no ${missing.join(", ")}.` : `${dir} does not exist.`,
      fromEnv ? "OASST_REALSTACK_DIR points there." : "It is looked for beside the repository (../shared/realstack), or at $OASST_REALSTACK_DIR.",
      "Put the realstack folder there, or run: OASST_REALSTACK_DIR=/path/to/realstack npm run test:real",
    ]);
  }
  return dir;
}

/** Runs a script of the stack, its output line by line on stderr behind `[realstack name]`. */
function runScript(dir: string, name: string, timeoutMs: number): Promise<void> {
  const tag = `[realstack ${name}]`;
  const started = Date.now();
  process.stderr.write(`${tag} running ${resolve(dir, name)}\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn("bash", [resolve(dir, name)], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const relay = (stream: NodeJS.ReadableStream) => {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          // start.sh ends by printing the env file (the cookie): keep that off the log.
          const shown = line.startsWith("COOKIE=") ? "COOKIE=…" : line;
          tail.push(shown);
          if (tail.length > 30) tail.shift();
          process.stderr.write(`${tag} ${shown}\n`);
        }
      });
      stream.on("end", () => {
        if (rest) process.stderr.write(`${tag} ${rest}\n`);
      });
    };
    relay(child.stdout);
    relay(child.stderr);
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
      if (code === 0) {
        process.stderr.write(`${tag} done in ${took}\n`);
        resolvePromise();
      } else {
        reject(
          new Error(
            `${resolve(dir, name)} failed (${signal ? `killed by ${signal}` : `exit ${code}`}, after ${took}${signal ? `, limit ${timeoutMs / 1000} s` : ""}); its last lines:\n${tail.join("\n")}`,
          ),
        );
      }
    });
  });
}

function parseEnvFile(path: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1]!] = match[2]!;
  }
  return values;
}

function readInfo(dir: string): RealStackInfo {
  if (!existsSync(ENV_FILE)) {
    fail([
      `${ENV_FILE} is missing: the stack is not running.`,
      `Start it with ${resolve(dir, "start.sh")}, or unset OASST_REALSTACK_RUNNING to let the suite start it.`,
    ]);
  }
  const env = parseEnvFile(ENV_FILE);
  const state = process.env.RS_STATE || "/tmp/realstack";
  const details = existsSync(`${state}/details.env`) ? parseEnvFile(`${state}/details.env`) : {};
  const { WEBSITE: website, INFERENCE: inference, COOKIE: cookie } = env;
  if (!website || !inference || !cookie) fail([`${ENV_FILE} lacks WEBSITE=, INFERENCE= or COOKIE=; restart the stack with ${resolve(dir, "start.sh")}.`]);
  const nextAuthSecret = process.env.NEXTAUTH_SECRET || details.NEXTAUTH_SECRET;
  if (!nextAuthSecret) fail([`${state}/details.env has no NEXTAUTH_SECRET (needed to mint users); restart the stack with ${resolve(dir, "start.sh")}.`]);
  return { website, inference, cookie, dir, webDir: process.env.RS_WEB_DIR || "/tmp/realstack-web", nextAuthSecret };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = locateStack();
  if (process.env.OASST_REALSTACK_RUNNING === "1") {
    const info = readInfo(dir);
    process.stderr.write(`[realstack] OASST_REALSTACK_RUNNING=1: reusing the stack at ${info.website} (not started, not stopped here)\n`);
    project.provide("realstack", info);
    return async () => {};
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", stopOnExit);
    await runScript(dir, "stop.sh", 60_000).catch((error: Error) => process.stderr.write(`[realstack stop.sh] ${error.message}\n`));
  };
  // A last resort if vitest exits without calling the teardown: stop synchronously.
  const stopOnExit = () => {
    if (!stopped) spawnSync("bash", [resolve(dir, "stop.sh")], { stdio: ["ignore", "ignore", "inherit"], timeout: 30_000 });
  };
  process.on("exit", stopOnExit);

  try {
    await runScript(dir, "setup.sh", 20 * 60_000);
    await runScript(dir, "start.sh", 3 * 60_000);
    project.provide("realstack", readInfo(dir));
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}
