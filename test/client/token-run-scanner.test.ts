/**
 * The WebAssembly token-run scanner (src/client/token-run-scanner.wat): the shipped
 * bytes are the compile of the .wat, it takes exactly the token events the decoder's
 * JavaScript path takes, and ChatEventDecoder's `joinTokens` mode yields the same text
 * as eventsource-parser + JSON.parse.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { ChatEventDecoder } from "../../src/client/chat-events.js";
import { TokenRunScanner } from "../../src/client/token-run-scanner.js";
import type { ChatEvent } from "../../src/client/wire-types.js";
import { pyStringLiteral } from "../../src/emulator/pydantic-json.js";
import { splitAt } from "../helpers/split-at.js";

const encoder = new TextEncoder();
const token = (literal: string) => `data: {"event_type": "token", "text": "${literal}"}\r\n\r\n`;

function scanner(): TokenRunScanner {
  const shared = TokenRunScanner.shared();
  if (!shared) throw new Error("WebAssembly is not available");
  return shared;
}

/** The texts `tokens` found from `at` (escaped ones as written), and where it stopped. */
function scanTokens(text: string, at = 0, maxLineLength = 1 << 20): { texts: string[]; escaped: boolean[]; end: number } {
  const scan = scanner();
  scan.load(encoder.encode(text));
  const count = scan.tokens(at, maxLineLength);
  const texts: string[] = [];
  const escaped: boolean[] = [];
  for (let k = 0; k < count; k++) {
    const start = scan.offsets[scan.first + 2 * k] as number;
    const end = scan.offsets[scan.first + 2 * k + 1] as number;
    texts.push(text.slice(start, end & 0x7fff_ffff));
    escaped.push(end < 0);
  }
  return { texts, escaped, end: scan.end() };
}

describe("TokenRunScanner", () => {
  it("ships the compile of token-run-scanner.wat", () => {
    const script = fileURLToPath(new URL("../../scripts/build-wasm.mjs", import.meta.url));
    expect(execFileSync(process.execPath, [script, "--check"], { encoding: "utf8" })).toMatch(/matches/);
  });

  it("takes a run of token events and stops at the first other event", () => {
    const text = token("Hello") + token(" w\\u00f6rld") + token("") + 'data: {"event_type": "message"}\r\n\r\n' + token("after");
    const { texts, escaped, end } = scanTokens(text);
    expect(texts).toEqual(["Hello", " w\\u00f6rld", ""]);
    expect(escaped).toEqual([false, true, false]);
    expect(text.slice(end)).toMatch(/^data: \{"event_type": "message"\}/);
  });

  it("stops before an event that is not all in the read", () => {
    const whole = token("a") + token("b");
    for (let cut = whole.length - 1; cut > token("a").length; cut--) {
      const { texts, end } = scanTokens(whole.slice(0, cut));
      expect(texts, `cut at ${cut}`).toEqual(["a"]);
      expect(end).toBe(token("a").length);
    }
  });

  it("refuses what JSON.parse refuses, and takes every valid escape and printable character", () => {
    const refused = ["a\\", "a\\x", "a\\u12", "a\\u12g4", "a\tb", "a\u0000", "caf\u00e9"];
    for (const literal of refused) expect(scanTokens(token("ok") + token(literal)).texts, JSON.stringify(literal)).toEqual(["ok"]);
    const taken = ['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00AF", "\\ud83d\\ude42", "\u007f", " ~{}:"];
    for (const literal of taken) expect(scanTokens(token(literal)).texts, JSON.stringify(literal)).toEqual([literal]);
  });

  it("keeps the line cap: a line longer than the cap is left to the decoder's general path", () => {
    const line = `data: {"event_type": "token", "text": "${"x".repeat(50)}"}`;
    expect(scanTokens(token("x".repeat(50)), 0, line.length).texts).toHaveLength(1);
    expect(scanTokens(token("x".repeat(50)), 0, line.length - 1).texts).toHaveLength(0);
  });

  it("grows its memory for a read larger than it has seen", () => {
    const text = Array.from({ length: 40_000 }, (_, i) => token(`t${i}`)).join("");
    expect(text.length).toBeGreaterThan(1_500_000);
    const { texts, end } = scanTokens(text);
    expect(texts).toHaveLength(40_000);
    expect(texts.at(-1)).toBe("t39999");
    expect(end).toBe(text.length);
  });
});

// ---- joinTokens: the decoder's text-only mode against the oracle -----------------------------

/** Token events next to each other merged into one: what `joinTokens` may deliver. */
function merged(events: ChatEvent[]): ChatEvent[] {
  const out: ChatEvent[] = [];
  for (const event of events) {
    const last = out.at(-1);
    if (event.event_type === "token" && last?.event_type === "token") out[out.length - 1] = { event_type: "token", text: last.text + event.text };
    else out.push(event);
  }
  return out;
}

function oracle(text: string): ChatEvent[] {
  const out: ChatEvent[] = [];
  const parser = createParser({ onEvent: (event) => out.push(JSON.parse(event.data) as ChatEvent) });
  parser.feed(text);
  return out;
}

const tokenText = fc.string({ unit: fc.constantFrom("a", " ", "ö", "🙂", '"', "\\", "\n", "\u0001", "\u007f", "}"), maxLength: 8 });
const block = fc.oneof(
  { weight: 8, arbitrary: tokenText.map((text) => `data: {"event_type": "token", "text": ${pyStringLiteral(text)}}\r\n\r\n`) },
  { weight: 1, arbitrary: tokenText.map((text) => `data: {"event_type": "message", "message": {"content": ${pyStringLiteral(text)}}}\r\n\r\n`) },
  { weight: 1, arbitrary: tokenText.map((text) => `data: ${JSON.stringify({ event_type: "token", text })}\r\n\r\n`) },
);

describe("ChatEventDecoder with joinTokens", () => {
  it("yields the oracle's events, with token events of one read joined, on random streams cut anywhere", () => {
    fc.assert(
      fc.property(fc.array(block, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 8 }), (blocks, cuts) => {
        const text = blocks.join("");
        const decoder = new ChatEventDecoder({ joinTokens: true });
        const events: ChatEvent[] = [];
        for (const chunk of splitAt(encoder.encode(text), cuts)) events.push(...decoder.push(chunk));
        events.push(...decoder.end());
        expect(merged(events)).toEqual(merged(oracle(text)));
      }),
      { numRuns: 1500 },
    );
  });

  it("joins a read's run into one event: one object for the run, not one per token", () => {
    const decoder = new ChatEventDecoder({ joinTokens: true });
    const events = decoder.push(encoder.encode(token("Hel") + token("lo \\u00fc") + token("!") + 'data: {"event_type": "message", "message": {}}\r\n\r\n'));
    expect(events).toEqual([
      { event_type: "token", text: "Hello ü!" },
      { event_type: "message", message: {} },
    ]);
  });

  it("resolves every JSON escape as JSON.parse does, lone surrogates and upper-case hex included", () => {
    const literals = ['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00AF", "\\uABcd", "\\ud83d", "\\ude42", "\\udc00x", "plain \u007f~"];
    const decoder = new ChatEventDecoder({ joinTokens: true });
    const events = decoder.push(encoder.encode(literals.map(token).join("")));
    expect(events).toEqual([{ event_type: "token", text: literals.map((literal) => JSON.parse(`"${literal}"`) as string).join("") }]);
  });
});
