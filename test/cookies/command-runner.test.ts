/** The default runner for secret-tool, security and PowerShell, tried on real programs. */
import { describe, expect, it } from "vitest";
import { runCommand } from "../../src/cookies/command-runner.js";

describe("runCommand", () => {
  it("passes the input on stdin and returns stdout, stderr and the exit code", async () => {
    const script =
      "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{process.stdout.write(s.toUpperCase());process.stderr.write('note');process.exit(3)})";
    expect(await runCommand(process.execPath, ["-e", script], "secret key")).toEqual({ exitCode: 3, stdout: "SECRET KEY", stderr: "note" });
  });

  it("does not fail when the program ignores its stdin", async () => {
    expect(await runCommand(process.execPath, ["-e", "process.stdout.write('done')"], "x".repeat(1 << 20))).toEqual({
      exitCode: 0,
      stdout: "done",
      stderr: "",
    });
  });

  it("rejects with ENOENT when the program is not installed", async () => {
    await expect(runCommand("oasst-no-such-program", [])).rejects.toMatchObject({ code: "ENOENT" });
  });
});
