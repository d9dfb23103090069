/**
 * The local Open-Assistant-compatible server in a child process (the built dist/),
 * closer to reality than one sharing the event loop with its clients. It prints its
 * address as one JSON line, then answers commands on stdin, one a line:
 * `chats` → `{"chats": N}` (chats created and not deleted), `stop` → closes and exits.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { DIST } from "./child.js";

const SCRIPT = `
import { createInterface } from "node:readline";
const { startEmulator } = await import(process.env.OASST_TEST_EMULATOR);
const server = await startEmulator({ quiet: true, ...JSON.parse(process.env.OASST_TEST_OPTIONS) });
process.stdout.write(JSON.stringify({ url: server.url, cookie: server.cookie, cookies: server.cookies, sessions: server.sessions() }) + "\\n");
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "chats") process.stdout.write(JSON.stringify({ chats: server.liveChats() }) + "\\n");
  if (line === "stop") { await server.stop(); process.stdout.write(JSON.stringify({ stopped: true }) + "\\n"); process.exit(0); }
}
`;

export interface EmulatorProcess {
  url: string;
  cookie: string;
  cookies: Record<string, string>;
  /** Every user's session (the first is `cookie`/`cookies`; more with the `sessionTokens` option). */
  sessions: Array<{ token: string; cookie: string; cookies: Record<string, string> }>;
  pid: number;
  /** Chats created and not deleted. */
  liveChats(): Promise<number>;
  stop(): Promise<void>;
}

export async function startEmulatorProcess(options: Record<string, unknown> = {}): Promise<EmulatorProcess> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ["--input-type=module", "-e", SCRIPT], {
    env: {
      PATH: process.env.PATH ?? "",
      OASST_TEST_EMULATOR: pathToFileURL(`${DIST}emulator/emulator.js`).href,
      OASST_TEST_OPTIONS: JSON.stringify(options),
    },
    stdio: "pipe",
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onExit = () => reject(new Error(`the emulator process exited: ${stderr}`));
      child.once("exit", onExit);
      waiting.push((line) => {
        child.off("exit", onExit);
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
    });
  const started = (await next()) as Pick<EmulatorProcess, "url" | "cookie" | "cookies" | "sessions">;
  return {
    ...started,
    pid: child.pid ?? 0,
    async liveChats() {
      const answer = next();
      child.stdin.write("chats\n");
      return (await answer).chats as number;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.write("stop\n");
      await exited;
    },
  };
}
