/** The default way to ask `secret-tool`, `security` and PowerShell: a child process with a time limit. */
import { spawn } from "node:child_process";
import type { CommandResult, CommandRunner } from "./types.js";

// A Keychain or keyring prompt waits for the user; past this the search goes on without the key.
const TIMEOUT_MS = 60_000;

export const runCommand: CommandRunner = (file, args, input) =>
  new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], timeout: TIMEOUT_MS, windowsHide: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (exitCode) => {
      resolve({ exitCode, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") });
    });
    // A program that does not read its stdin closes the pipe; that is not a failure.
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
