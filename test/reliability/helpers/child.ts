/**
 * The built package (dist/) in a child process: for what one process cannot do to
 * itself, such as trusting a throwaway CA for the provider's own connection pool
 * (NODE_EXTRA_CA_CERTS is read at start-up), or measuring a separate process.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

export const DIST = fileURLToPath(new URL("../../../dist/", import.meta.url));
export const CLI = `${DIST}cli/main.js`;

export function assertBuilt(): void {
  if (!existsSync(`${DIST}index.js`) || !existsSync(CLI)) throw new Error(`${DIST} is missing: run \`npm run build\` first (npm test does).`);
}

export interface ChildError {
  name: string;
  summary: string;
  message: string;
  string: string;
  /** util.inspect of the error with its whole cause chain. */
  inspected: string;
}

export interface ChildChat {
  text?: string;
  error?: ChildError;
  /** util.inspect of each warning. */
  warnings: string[];
  /** Request trail lines (onRequest), as JSON. */
  trail: string[];
  stderr: string;
}

const CHAT_SCRIPT = `
import { inspect } from "node:util";
const { OpenAssistant } = await import(process.env.OASST_TEST_DIST_INDEX);
const input = JSON.parse(process.env.OASST_TEST_INPUT);
const warnings = [];
const trail = [];
const options = { ...input.options, onWarning: (w) => warnings.push(inspect(w, { depth: 10 })), onRequest: (e) => trail.push(JSON.stringify(e)) };
let out;
try {
  out = { text: await OpenAssistant.createAsync(input.model, input.messages, options) };
} catch (e) {
  out = { error: { name: e?.constructor?.name ?? typeof e, summary: String(e?.summary), message: String(e?.message), string: String(e), inspected: inspect(e, { depth: 10 }) } };
}
process.stdout.write(JSON.stringify({ ...out, warnings, trail }));
`;

/** `OpenAssistant.createAsync` in a fresh Node process with only `env` (plus PATH) in its environment. */
export function chatInChild(
  input: { model: string; messages: unknown; options: Record<string, unknown> },
  env: Record<string, string> = {},
): Promise<ChildChat> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHAT_SCRIPT], {
    env: { PATH: process.env.PATH ?? "", ...env, OASST_TEST_DIST_INDEX: pathToFileURL(`${DIST}index.js`).href, OASST_TEST_INPUT: JSON.stringify(input) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      try {
        resolve({ ...(JSON.parse(stdout) as Omit<ChildChat, "stderr">), stderr });
      } catch {
        reject(new Error(`the child exited ${code} without its JSON\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}
