/**
 * Runs `oasst` on a real terminal: a tmux pane on a tmux server of this test file
 * alone (its own socket), driven with send-keys and read with capture-pane.
 */
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { CLI, cleanEnv, type TempHome } from "./cli-harness.js";

const run = promisify(execFile);

/** One tmux server per test process: other test files and the user's own tmux are never touched. */
const SOCKET = `oasst-cli-test-${process.pid}`;
let sessions = 0;
let serverStarted: Promise<unknown> | undefined;

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function tmux(...args: string[]): Promise<{ stdout: string }> {
  return run("tmux", ["-L", SOCKET, ...args]);
}

export class TmuxPane {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * Start `oasst ARGS` in a new detached session, with the clean environment of
   * `home` (env -i: nothing leaks in from the tmux server). When oasst exits the pane
   * shows `EXIT=<status>` and stays open.
   */
  static async start(args: string[], home: TempHome, env: Record<string, string | undefined> = {}): Promise<TmuxPane> {
    // A server that exits with its last session races the next new-session ("server exited unexpectedly").
    serverStarted ??= tmux("start-server", ";", "set-option", "-s", "exit-empty", "off");
    await serverStarted;
    const name = `oasst-${process.pid}-${++sessions}`;
    const variables = Object.entries(cleanEnv(home, { TERM: "screen", ...env }))
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => shellQuote(`${key}=${value}`));
    const command = `env -i ${variables.join(" ")} ${shellQuote(process.execPath)} ${shellQuote(CLI)} ${args.map(shellQuote).join(" ")}; echo "EXIT=$?"; sleep 600`;
    await tmux("new-session", "-d", "-s", name, "-x", "150", "-y", "50", command);
    return new TmuxPane(name);
  }

  /** Keys as tmux names them: "Enter", "C-c", "C-d", "Up". */
  async keys(...keys: string[]): Promise<void> {
    await tmux("send-keys", "-t", this.name, ...keys);
  }

  /** Literal text, then Enter. */
  async typeLine(text: string): Promise<void> {
    await tmux("send-keys", "-t", this.name, "-l", text);
    await tmux("send-keys", "-t", this.name, "Enter");
  }

  /** The pane's text, wrapped lines joined; `escapes` keeps colour codes. */
  async capture(escapes = false): Promise<string> {
    const { stdout } = await tmux("capture-pane", "-p", "-J", ...(escapes ? ["-e"] : []), "-t", this.name);
    return stdout;
  }

  /** Wait until the pane shows `pattern`; returns the pane text. */
  async waitFor(pattern: string | RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.capture();
      if (typeof pattern === "string" ? screen.includes(pattern) : pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`the pane never showed ${String(pattern)}; it shows:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The exit status oasst left on the pane. */
  async exitStatus(timeoutMs = 15_000): Promise<number> {
    const screen = await this.waitFor(/EXIT=\d+/, timeoutMs);
    return Number(/EXIT=(\d+)/.exec(screen)?.[1]);
  }

  async kill(): Promise<void> {
    await tmux("kill-session", "-t", this.name).catch(() => {});
  }
}

/** Stop this test file's tmux server (only its own socket) and remove the socket file it leaves. */
export async function stopTmuxServer(): Promise<void> {
  serverStarted = undefined;
  await tmux("kill-server").catch(() => {});
  const uid = process.getuid?.() ?? 0;
  await rm(join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${uid}`, SOCKET), { force: true });
}
