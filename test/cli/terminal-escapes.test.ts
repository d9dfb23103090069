/**
 * Server text cannot drive the terminal (issue 17, item 4). stripTerminalEscapes removes
 * every ECMA-48 control sequence and control character but `\n` and `\t`; the CLI applies
 * it to errors, warnings and tables always, and to the reply when stdout is a terminal.
 * Piped and in --json, the reply stays as the server sent it.
 */
import { execFile } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { promisify } from "node:util";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stripTerminalEscapes, TerminalTextFilter } from "../../src/cli/terminal-escapes.js";
import { listenLocal } from "../helpers/local-server.js";
import { assertBuilt, makeTempHome, runCli, type TempHome } from "./cli-harness.js";
import { stopTmuxServer, TmuxPane } from "./tmux-harness.js";

const ESC = "\x1b";
/** Anything a terminal could act on: C0 but \n and \t, DEL, C1, and the bidi embeddings, overrides and isolates. */
const CONTROL = /(?![\n\t])\p{Cc}|[\u202a-\u202e\u2066-\u2069]/u;

describe("stripTerminalEscapes", () => {
  it.each([
    ["CSI: colours, cursor moves, erase, private modes", `a${ESC}[31mb${ESC}[0m${ESC}[2J${ESC}[1;1H${ESC}[?1049h${ESC}[38;2;1;2;3mc`, "abc"],
    ["CSI with intermediates, and the 8-bit CSI", `a${ESC}[1 qb\x9b2Jc`, "abc"],
    [
      "OSC ended by BEL, by ST and by the 8-bit ST: title, clipboard (52), hyperlink (8)",
      `a${ESC}]0;pwned\x07b${ESC}]52;c;cHduZWQ=${ESC}\\c\x9d8;;http://x\x9cd`,
      "abcd",
    ],
    ["DCS, SOS, PM and APC strings, 7-bit and 8-bit", `a${ESC}P+q544e${ESC}\\b${ESC}Xsos${ESC}\\c${ESC}^pm${ESC}\\d${ESC}_apc${ESC}\\e\x90dcs\x9cf`, "abcdef"],
    ["single escape sequences: reset, save/restore cursor, charset, DECALN", `a${ESC}cb${ESC}7c${ESC}8d${ESC}(Be${ESC}#8f${ESC}=g`, "abcdefg"],
    ["other C0 controls and DEL (bell, backspace, vertical tab, form feed, shift out)", "a\x07b\x08c\x0bd\x0ce\x0ef\x7fg\0h", "abcdefgh"],
    ["other C1 controls (NEL, IND, RI)", "a\x85b\x84c\x8dd", "abcd"],
    [
      "bidi overrides, embeddings and isolates (Trojan Source); the marks LRM and RLM stay",
      "a\u202eb\u202cc\u2066d\u2069e\u202af\u200e\u200f",
      "abcdef\u200e\u200f",
    ],
    ["keeps \\n and \\t, and all other text", "line 1\n\tcafé 日本語 🙂 \u00a0 ~", "line 1\n\tcafé 日本語 🙂 \u00a0 ~"],
    ["\\r\\n is a line break", "a\r\nb\r\n", "a\nb\n"],
    ["a lone \\r becomes a line break (nothing printed is overwritten); one at the end goes", "real\rfake\r", "real\nfake"],
    ["CAN and SUB cancel a sequence", `a${ESC}[12\x18b${ESC}]0;t\x1ac`, "abc"],
    ["a sequence cut by another character ends there; the character stays", `a${ESC}[12é${ESC}\nb`, "aé\nb"],
    ["ESC inside a string ends it and starts a new sequence", `a${ESC}]0;t${ESC}[31mb`, "ab"],
    ["a string never terminated hides the rest, as on a terminal", `a${ESC}]0;title and the rest\nmore`, "a"],
    ["a lone ESC at the end", `a${ESC}`, "a"],
  ])("%s", (_name, input, expected) => {
    expect(stripTerminalEscapes(input)).toBe(expected);
  });

  // Any code point (fast-check's own "binary" strings take seconds to set up).
  const anyText = fc.array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength: 30 }).map((codes) => String.fromCodePoint(...codes));

  it("returns text without controls unchanged (the same string)", () => {
    fc.assert(
      fc.property(
        anyText.map((text) => text.replace(new RegExp(CONTROL, "gu"), "")),
        (text) => stripTerminalEscapes(text) === text,
      ),
    );
  });

  // Text made of the pieces sequences are built of, so that the generator hits sequences and their edges.
  const pieces = fc.constantFrom(
    ESC,
    "[",
    "]",
    "P",
    "_",
    "\\",
    "\x07",
    "\x9b",
    "\x9c",
    "\x9d",
    "\r",
    "\n",
    "\t",
    "\x18",
    "0",
    ";",
    "m",
    "a",
    "é",
    "🙂",
    " ",
    "\u202e",
  );
  const terminalText = fc.array(pieces, { maxLength: 40 }).map((parts) => parts.join(""));

  it("never leaves a control character but \\n and \\t", () => {
    fc.assert(fc.property(fc.oneof(terminalText, anyText), (text) => !CONTROL.test(stripTerminalEscapes(text))));
  });

  it("gives the same text however a stream cuts it (a sequence split between tokens is removed whole)", () => {
    fc.assert(
      fc.property(terminalText, fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
        const chars = [...text];
        const points = [...new Set(cuts.map((cut) => cut % (chars.length + 1)))].sort((a, b) => a - b);
        const filter = new TerminalTextFilter();
        let out = "";
        let last = 0;
        for (const point of [...points, chars.length]) {
          out += filter.push(chars.slice(last, point).join(""));
          last = point;
        }
        return out === stripTerminalEscapes(text);
      }),
    );
  });
});

// ---- The CLI, against a site whose every text tries to drive the terminal ----

/** The reply's tokens: a title change, a screen clear, a clipboard write split over three tokens, a carriage return that would overwrite. */
const TOKENS = ["Hello ", `${ESC}]2;pwned-title\x07`, `${ESC}[2J${ESC}[H`, "world", `${ESC}]52;c;`, "cHduZWQ=", "\x07", "\r", "fake"];
const REPLY = TOKENS.join("");
const SHOWN = "Hello world\nfake";
/** The server's error message: it would erase the line and write its own. */
const EVIL_MESSAGE = `bad${ESC}]2;pwned-title\x07${ESC}[2K\rforged: all good`;

interface Site {
  url: string;
  close(): Promise<void>;
}

/** Just enough of the Open-Assistant API for one reply, a model list and a failing delete, all carrying EVIL text. */
async function startEvilSite(options: { refuseChat?: boolean } = {}): Promise<Site> {
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const route = `${req.method} ${new URL(req.url ?? "/", "http://x").pathname}`;
    if (route === "POST /api/chat") return options.refuseChat ? json(res, 400, { message: EVIL_MESSAGE }) : json(res, 200, { id: "chat-1" });
    if (route === "POST /api/chat/prompter_message") return json(res, 200, { id: "prompter-1" });
    if (route === "POST /api/chat/assistant_message") return json(res, 200, { id: "assistant-1" });
    if (route === "DELETE /api/chat") return json(res, 400, { message: EVIL_MESSAGE });
    if (route === "GET /api/chat/models") {
      return json(res, 200, [{ name: `m${ESC}]2;pwned-title\x07`, description: `desc${ESC}[31mred\rX`, parameter_configs: [] }]);
    }
    if (route === "POST /api/chat/events") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const text of TOKENS) res.write(`data: ${JSON.stringify({ event_type: "token", text })}\n\n`);
      const message = { id: "assistant-1", role: "assistant", state: "complete", content: REPLY, parent_id: "prompter-1" };
      return res.end(`data: ${JSON.stringify({ event_type: "message", message })}\n\n`);
    }
    json(res, 404, { message: "not found" });
  });
  return listenLocal(server);
}

let home: TempHome;
const sites: Site[] = [];
const panes: TmuxPane[] = [];

async function site(options: { refuseChat?: boolean } = {}): Promise<Site> {
  const started = await startEvilSite(options);
  sites.push(started);
  return started;
}

const env = (url: string) => ({ env: { OASST_BASE_URL: url, OASST_COOKIES: "next-auth.session-token=escape-test" } });

beforeAll(() => assertBuilt());
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await Promise.all(panes.splice(0).map((pane) => pane.kill()));
  await Promise.all(sites.splice(0).map((s) => s.close()));
  await home.remove();
});
afterAll(() => stopTmuxServer());

describe("the CLI, piped", () => {
  it("writes the reply as the server sent it, and strips the warning that quotes the server", async () => {
    const { url } = await site();
    const result = await runCli(["chat", "Hi"], home, env(url));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${REPLY}\n`);
    // The chat's delete failed with the server's message: the warning holds none of its controls.
    expect(result.stderr).toContain("warning: Chat chat-1 could not be deleted: DELETE /api/chat failed (HTTP 400: bad\nforged: all good)");
    expect(result.stderr).not.toMatch(CONTROL);
    expect(result.stderr).not.toContain("pwned-title");
  });

  it("--json keeps every token and the final message as sent", async () => {
    const { url } = await site();
    const result = await runCli(["chat", "--json", "Hi"], home, env(url));
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; text?: string; message?: { content: string } });
    expect(lines.filter((line) => line.type === "token").map((line) => line.text)).toEqual(TOKENS);
    expect(lines.at(-1)?.message?.content).toBe(REPLY);
  });

  it("an error quoting the server: stderr holds no control, --json's error line has the message as sent", async () => {
    const { url } = await site({ refuseChat: true });
    const result = await runCli(["chat", "Hi"], home, env(url));
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("error: POST /api/chat failed (HTTP 400: bad\nforged: all good)\n");
    expect(result.stderr).not.toMatch(CONTROL);
    const json = await runCli(["chat", "--json", "Hi"], home, env(url));
    expect(JSON.parse(json.stdout.trim()) as { message: string }).toMatchObject({
      type: "error",
      message: `POST /api/chat failed (HTTP 400: ${EVIL_MESSAGE})`,
    });
    expect(json.stderr).not.toMatch(CONTROL);
  });

  it("tables (oasst models) lose the controls; --json keeps them", async () => {
    const { url } = await site();
    const table = await runCli(["models"], home, env(url));
    expect(table.code).toBe(0);
    expect(table.stdout).not.toMatch(CONTROL);
    expect(table.stdout).toContain("descred\nX");
    const json = await runCli(["models", "--json"], home, env(url));
    expect((JSON.parse(json.stdout) as Array<{ description: string }>)[0]?.description).toBe(`desc${ESC}[31mred\rX`);
  });
});

describe("the CLI on a terminal", () => {
  /** The title the program on the pane set (OSC 0/2), read from the harness's tmux server: one per test process. */
  async function title(pane: TmuxPane): Promise<string> {
    const { stdout } = await promisify(execFile)("tmux", ["-L", `oasst-cli-test-${process.pid}`, "display-message", "-p", "-t", pane.name, "#{pane_title}"]);
    return stdout.trim();
  }

  async function pane(args: string[], url: string): Promise<TmuxPane> {
    const started = await TmuxPane.start(args, home, env(url).env);
    panes.push(started);
    return started;
  }

  it("shows the reply without its controls: the title stays, nothing is overwritten", async () => {
    const { url } = await site();
    const p = await pane(["chat", "Hi"], url);
    expect(await p.exitStatus()).toBe(0);
    const screen = await p.capture();
    expect(screen).toContain(`${SHOWN}\n`);
    expect(screen).not.toContain("cHduZWQ=");
    expect(await title(p)).not.toBe("pwned-title");
  });

  it("shows an error quoting the server without its controls", async () => {
    const { url } = await site({ refuseChat: true });
    const p = await pane(["chat", "Hi"], url);
    expect(await p.exitStatus()).toBe(4);
    expect(await p.capture()).toContain("error: POST /api/chat failed (HTTP 400: bad\nforged: all good)\n");
    expect(await title(p)).not.toBe("pwned-title");
  });
});
