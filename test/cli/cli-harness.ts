/**
 * Runs `oasst` with a clean environment: a temporary HOME and XDG_CONFIG_HOME (no real
 * config, cookies or browser profiles are read), NO_COLOR, and none of the caller's OASST_*
 * or proxy variables. `runCli` runs it in the test's process (its output and exit status);
 * `spawnCli` runs the built binary (dist/cli/main.js) as a child, for signals and the like.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "vitest";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { runInProcess } from "../helpers/in-process-cli.js";

export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the CLI tests.`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin, which is then closed. Default: stdin closed at once (not a TTY, empty). */
  input?: string;
  /** Added to the clean environment. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** A temporary home: HOME and XDG_CONFIG_HOME point inside it. */
export interface TempHome {
  dir: string;
  configDir: string;
  env: Record<string, string>;
  /** Write `$XDG_CONFIG_HOME/oasst/config.json` (a string is written as is). */
  writeConfig(config: unknown): Promise<string>;
  remove(): Promise<void>;
}

export async function makeTempHome(): Promise<TempHome> {
  const dir = await mkdtemp(join(tmpdir(), "oasst-cli-test-"));
  const configDir = join(dir, "config");
  await mkdir(configDir);
  return {
    dir,
    configDir,
    env: { HOME: dir, XDG_CONFIG_HOME: configDir, USERPROFILE: dir, APPDATA: configDir },
    async writeConfig(config) {
      await mkdir(join(configDir, "oasst"), { recursive: true });
      const path = join(configDir, "oasst", "config.json");
      await writeFile(path, typeof config === "string" ? config : JSON.stringify(config));
      return path;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export function cleanEnv(home: TempHome, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, NO_COLOR: "1", LANG: "C.UTF-8", ...home.env };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function spawnCli(args: string[], home: TempHome, options: RunOptions = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { env: cleanEnv(home, options.env), stdio: "pipe" });
}

/** The outcome of a child: exit code or signal, and everything it printed. */
export function collect(child: ChildProcessWithoutNullStreams, timeoutMs = 15_000): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`oasst did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `oasst ARGS` in this process, as `spawnCli` would run it: its exit status and output. */
export async function runCli(args: string[], home: TempHome, options: RunOptions = {}): Promise<CliResult> {
  const { code, stdout, stderr } = await runInProcess(args, { env: cleanEnv(home, options.env), homeDir: home.dir, input: options.input });
  return { code, signal: null, stdout, stderr };
}

/** `oasst ARGS` as a child process (the built binary): for what one process cannot show from inside, such as a closed pipe. */
export function runCliProcess(args: string[], home: TempHome, options: RunOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, home, options);
  const result = collect(child, options.timeoutMs);
  child.stdin.end(options.input ?? "");
  return result;
}

/** Resolves when `child` has printed `text` on stdout. */
export function waitForOutput(child: ChildProcessWithoutNullStreams, text: string, timeoutMs = 10_000): Promise<void> {
  let seen = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${JSON.stringify(text)} on stdout within ${timeoutMs} ms; got ${JSON.stringify(seen)}`)), timeoutMs);
    const onData = (chunk: Buffer | string) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        resolve();
      }
    };
    child.stdout.on("data", onData);
  });
}

/** Poll `check` until it returns true. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Local servers started by a test file, all stopped at once in its afterEach. */
export function emulatorPool(): { start(options?: EmulatorOptions): Promise<Emulator>; stopAll(): Promise<void> } {
  const running: Emulator[] = [];
  return {
    async start(options = {}) {
      const server = await startEmulator({ quiet: true, ...options });
      running.push(server);
      return server;
    },
    async stopAll() {
      await Promise.all(running.splice(0).map((server) => server.stop()));
    },
  };
}

/** The environment that points the CLI at `server` with its session cookie. */
export function serverEnv(server: Emulator): Record<string, string> {
  return { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie };
}

/**
 * `test` with a temporary home and an emulator pool of its own for each test, removed and stopped
 * when it ends: tests can run at once (describe.concurrent), each CLI child in its own home.
 * `it("…", async ({ home, emulator }) => { const server = await emulator(); … })`. The emulators
 * start with `emulatorDefaults` under the options each call gives.
 */
export function cliTestWith(emulatorDefaults: EmulatorOptions = {}) {
  return test.extend<{ home: TempHome; emulator: (options?: EmulatorOptions) => Promise<Emulator> }>({
    // eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from its first parameter's pattern
    home: async ({}, use) => {
      const home = await makeTempHome();
      await use(home);
      await home.remove();
    },
    // eslint-disable-next-line no-empty-pattern -- as above
    emulator: async ({}, use) => {
      const pool = emulatorPool();
      await use((options = {}) => pool.start({ ...emulatorDefaults, ...options }));
      await pool.stopAll();
    },
  });
}

export const cliTest = cliTestWith();
