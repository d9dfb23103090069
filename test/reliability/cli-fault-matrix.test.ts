/**
 * The CLI's fault matrix: `oasst chat` (the built binary, one process per case)
 * against every fault of the local server, with the outcomes of helpers/fault-table.ts
 * mapped onto exit codes. The consumers, as a shell user meets them:
 * - normal: `--timeout 2000ms` (the 60 s default lowered), read to the end;
 * - break: the reader closes the pipe after the first bytes (`| head -c1`): EPIPE, exit 0;
 * - abort: Ctrl-C (SIGINT) after the first bytes, or after 400 ms without any: exit 130;
 * - timeout: `--timeout 1000ms`.
 * After each case: the exit code, stdout, the warnings on stderr (`warning: Waiting for the
 * server to finish the reply…` exactly where a reply was left unfinished, a chat left or not
 * deleted exactly where one stays), the chats left on the server, and a preload's
 * report that the process ended because its event loop drained (no socket, server or
 * timer left open: the CLI never calls process.exit to cover a leak).
 *
 * A representative subset runs (see SUBSET below): each binary run costs ~0.4 s of
 * start-up on 2 cores, and where no text ever reaches stdout before the failure the
 * break and abort consumers cannot act and the run is the normal one again.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type Fault } from "../../src/emulator/index.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import { ReplyTokenSource } from "../../src/emulator/reply-text.js";
import { assertBuilt } from "./helpers/child.js";
import {
  CONSUMERS,
  FAULT_TABLE,
  LEFT_ON_SITE_TEXT,
  NOT_DELETED_TEXT,
  STILL_RUNNING_TEXT,
  TIMINGS,
  abortsWithoutText,
  chatsProblem,
  faultText,
  textProblem,
  waitProblem,
  type Consumer,
  type Expectation,
  type FaultRow,
  type MatrixFault,
  type Outcome,
} from "./helpers/fault-table.js";
import { mapLimit, runCli, runNode, type CliRun } from "./helpers/run-cli.js";
import { closedPort } from "./helpers/servers.js";

const PROMPT_TEXT = "CLI fault matrix: say something.";
const PROMPT = prompterContent([{ role: "user", content: PROMPT_TEXT }]);
/** Slower than the provider matrix: a pipe closed or a SIGINT sent at the first bytes must land before the reply ends. */
const CLI_EMULATOR = { replyTokens: 12, tokenDelayMs: 50, pingIntervalMs: 25, pendingEvents: 1 } as const;
/**
 * The CLI's normal consumer waits longer than the provider's (1 s): its server shares the test
 * worker's event loop with the harness, and a loaded machine must not turn a healthy stream into a timeout.
 */
const CLI_NORMAL_TIMEOUT_MS = 2_000;
/** The CLI's timeout consumer: still 60 times shorter than the default, 20 token intervals. */
const CLI_SHORT_TIMEOUT_MS = 1_000;
const ENDLESS_TEXT = (() => {
  const source = new ReplyTokenSource(PROMPT);
  return Array.from({ length: 50_000 }, () => source.next()).join("");
})();

/** The exit code `oasst chat` gives for each outcome (docs/cli.md, "Exit status"). */
const EXIT_CODE: Record<Outcome, number> = {
  ok: 0,
  AuthError: 2,
  RateLimitError: 3,
  ServerBusyError: 3,
  ServerError: 4,
  StreamError: 4,
  ProtocolError: 4,
  ConnectionError: 5,
  TimeoutError: 5,
  AbortError: 130,
};

/**
 * Where the CLI must differ from the provider's table. A process learns that its reader
 * closed the pipe only at its next write (EPIPE), as any Unix program does: the 17 MiB
 * line follows the first token at once, so the ProtocolError comes before any write, and may come
 * before a Ctrl-C pressed at the first token.
 */
const CLI_OVERRIDES: Partial<Record<MatrixFault, Partial<Record<Consumer, Expectation>>>> = {
  "oversized-line": {
    // As the consumers that read on: bytes inside one line are not progress, so a loaded machine may time out first.
    break: { outcome: "ProtocolError", alternative: "TimeoutError", alternativeText: "upTo", text: "prefix", chatsLeft: 0, warning: false, waited: true },
    // The same for Ctrl-C: it is pressed when the test reads the first token, and the 17 MiB line is already on its way.
    abort: { outcome: "AbortError", alternative: "ProtocolError", text: "prefix", chatsLeft: 0, warning: false, waited: true },
  },
};

function expectationFor(row: FaultRow, consumer: Consumer): Expectation {
  return CLI_OVERRIDES[row.fault]?.[consumer] ?? row.cases[consumer];
}

/**
 * Only the normal consumer runs for these rows. No text ever reaches stdout before they fail: break
 * and abort cannot act, the timeout is never reached. Or, for empty-events, the whole reply comes as
 * one write after the stream ended: break and Ctrl-C would act after the end (message-only, which
 * runs them, is the same case).
 */
const NORMAL_ONLY: ReadonlySet<MatrixFault> = new Set([
  "refused",
  "auth",
  "rate-limit",
  "rate-limit-500",
  "busy",
  "error-first",
  "empty-events",
  "html",
  "redirect",
  "close-mid-json",
]);

/** Which consumers run for a row. */
function consumersFor(row: FaultRow): Consumer[] {
  if (NORMAL_ONLY.has(row.fault)) return ["normal"];
  // The timeout consumer differs from the normal one only where the server goes silent (or never ends); "none" is the control.
  const timeout = ["none", "hang", "slow-headers", "endless"].includes(row.fault);
  // Break acts on the first text; hang and slow-headers never send any.
  const breaks = !["hang", "slow-headers"].includes(row.fault);
  return CONSUMERS.filter((c) => c === "normal" || c === "abort" || (c === "break" && breaks) || (c === "timeout" && timeout));
}

const SUBSET = FAULT_TABLE.flatMap((row) => consumersFor(row).map((consumer) => ({ row, consumer })));

interface CliCase {
  run: CliRun;
  /** What the test read from stdout (for break: until it closed the pipe). */
  text: string;
  /** What the test had read when it closed the pipe or pressed Ctrl-C. */
  textAtAct: string | undefined;
  chatsLeft: number | undefined;
}

async function runCase(fault: MatrixFault, consumer: Consumer): Promise<CliCase> {
  let server: Emulator | undefined;
  if (fault !== "refused") server = await startEmulator({ quiet: true, ...CLI_EMULATOR, faults: fault === "none" ? [] : [fault as Fault] });
  try {
    const baseUrl = server?.url ?? `http://127.0.0.1:${await closedPort()}`;
    const timeout = consumer === "timeout" ? CLI_SHORT_TIMEOUT_MS : CLI_NORMAL_TIMEOUT_MS;
    let read = "";
    let textAtAct: string | undefined;
    let closedPipe = false;
    const run = await runCli(["chat", "--base-url", baseUrl, "--cookie", server?.cookie ?? "a=b", "--timeout", `${timeout}ms`, PROMPT_TEXT], {
      onSpawn: (child) => {
        let acted = false;
        const timers: NodeJS.Timeout[] = [];
        const act = () => {
          if (acted) return;
          acted = true;
          textAtAct = read;
          if (consumer === "break") {
            closedPipe = true;
            child.stdout.destroy();
          } else {
            child.kill("SIGINT");
          }
        };
        child.on("close", () => timers.forEach(clearTimeout));
        if (consumer === "abort" && server && abortsWithoutText(fault)) {
          // No text yet: Ctrl-C 400 ms after the CLI's first request (by then its handler is installed).
          const poll = setInterval(() => {
            if (server.requests.length === 0) return;
            clearInterval(poll);
            timers.push(setTimeout(act, TIMINGS.abortFallbackMs));
          }, 10);
          timers.push(poll);
        }
        let first = true;
        child.stdout.on("data", (chunk: Buffer | string) => {
          if (closedPipe) return;
          read += chunk.toString();
          if (consumer === "break" || consumer === "abort") act();
          // An endless reply: the normal and timeout consumers press Ctrl-C after a while, as a user would.
          // (Only there: a Ctrl-C that lands as another reply ends finds no handler left and kills the process.)
          else if (first && fault === "endless") timers.push(setTimeout(act, TIMINGS.safetyAbortMs));
          first = false;
        });
      },
    });
    return { run, text: read, textAtAct, chatsLeft: server?.liveChats() };
  } finally {
    await server?.stop();
  }
}

const tally = { cases: 0, passed: 0, leaks: 0 };
beforeAll(() => assertBuilt());
afterAll(() => console.log(`CLI fault matrix: ${tally.cases} cases run, ${tally.passed} survived, ${tally.leaks} leaks found`));

function check(row: FaultRow, consumer: Consumer, expected: Expectation, result: CliCase): void {
  const { run } = result;
  const accepted = [expected.outcome, ...(expected.alternative ? [expected.alternative] : [])].map((o) => EXIT_CODE[o]);
  // On a loaded machine the test may read the first text late, with the whole reply in one chunk: Ctrl-C
  // then comes after the end, and the reply's own outcome is right (exit 0, or its error's code).
  const whole = faultText(row.fault, PROMPT, CLI_EMULATOR.replyTokens);
  if (consumer === "abort" && result.textAtAct?.replace(/\n$/, "") === whole) accepted.push(EXIT_CODE[row.cases.normal.outcome]);
  expect(accepted, `exit ${run.code}, stderr: ${run.stderr}`).toContain(run.code);
  expect(run.signal).toBeNull();
  // The event loop drained: nothing was left open when the process ended.
  expect(run.exit, "exit report").toBeDefined();
  expect(run.exit!.drained, `active at exit: ${run.exit!.resources.join(", ")}`).toBe(true);
  expect(run.exit!.lateTimers, "ref'd timers that fired after the last output").toEqual([]);
  const text = result.text.replace(/\n$/, "");
  const alternative = expected.alternative !== undefined && run.code === EXIT_CODE[expected.alternative] && run.code !== EXIT_CODE[expected.outcome];
  expect(textProblem(alternative && expected.alternativeText ? expected.alternativeText : expected.text, text, whole, ENDLESS_TEXT)).toBeUndefined();
  const warnings = run.stderr.split("\n").filter((line) => line.startsWith("warning: "));
  const notDeleted = warnings
    .filter((line) => /^warning: Chat [0-9a-f-]{36} (could not be deleted|was left on the site)/.test(line))
    .map((line) => line.slice(9));
  const stillRunning = warnings.filter((line) => line.startsWith("warning: Waiting for the server")).map((line) => line.slice(9));
  // No other warning: these two are the only ones a reply's end gives.
  expect(warnings).toHaveLength(notDeleted.length + stillRunning.length);
  if (row.fault !== "refused") expect(chatsProblem(expected, result.chatsLeft ?? 0, notDeleted)).toBeUndefined();
  // When the test had read the whole reply before it acted, the CLI may have seen the reply's end first: then no wait is right.
  const endBeforeAct = (consumer === "break" || consumer === "abort") && result.textAtAct?.replace(/\n$/, "") === whole;
  expect(waitProblem(expected, alternative ? expected.alternative! : expected.outcome, stillRunning, endBeforeAct)).toBeUndefined();
  for (const line of stillRunning) expect(line).toMatch(STILL_RUNNING_TEXT);
  for (const line of notDeleted) expect(line).toMatch(expected.neverEnds ? LEFT_ON_SITE_TEXT : NOT_DELETED_TEXT);
  if (run.code !== 0 && run.code !== 130) {
    expect(run.stderr).toMatch(/^error: .+\nhint: .+\n$/m);
  }
}

describe("the exit report itself", () => {
  it("sees ref'd timers that fire after the last output, and not unref'd ones", async () => {
    const dir = await mkdtemp(join(tmpdir(), "oasst-exit-report-"));
    try {
      const script = join(dir, "late-timers.mjs");
      await writeFile(
        script,
        [
          'import { setTimeout as sleep } from "node:timers/promises";',
          'console.log("last output");',
          "setTimeout(() => {}, 150);",
          "setTimeout(() => {}, 30).unref();",
          "await sleep(200);",
        ].join("\n"),
      );
      const run = await runNode([script]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.exit).toMatchObject({ drained: true, lateTimers: [150, 200] });
      expect(run.exit!.quietMs).toBeGreaterThanOrEqual(190);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("CLI fault matrix (oasst chat, one process per case)", () => {
  let results: CliCase[] = [];

  beforeAll(async () => {
    // The cases that wait longest (retries, a silent or endless server) start first; the others fill in beside them.
    const LONG: readonly MatrixFault[] = ["rate-limit", "busy", "hang", "endless", "slow-headers"];
    const order = [...SUBSET.keys()].sort((a, b) => Number(LONG.includes(SUBSET[b]!.row.fault)) - Number(LONG.includes(SUBSET[a]!.row.fault)));
    const ordered = await mapLimit(order, 6, (index) => runCase(SUBSET[index]!.row.fault, SUBSET[index]!.consumer));
    results = SUBSET.map((_, index) => ordered[order.indexOf(index)]!);
  }, 120_000);

  SUBSET.forEach(({ row, consumer }, index) => {
    const expected = expectationFor(row, consumer);
    it(`${row.fault} × ${consumer} → exit ${EXIT_CODE[expected.outcome]}${expected.alternative ? ` or ${EXIT_CODE[expected.alternative]}` : ""}`, () => {
      tally.cases++;
      const result = results[index]!;
      if (result.run.exit && (!result.run.exit.drained || result.run.exit.lateTimers.length)) tally.leaks++;
      check(row, consumer, expected, result);
      tally.passed++;
    });
  });
});
