/**
 * The event stream's decoding (ChatEventDecoder: SseDecoder + JSON.parse + the protocol's
 * rules; Utf8StreamDecoder: UTF-8 without TextDecoder's slow streaming mode) against
 * libraries as oracles: eventsource-parser + JSON.parse for the events, TextDecoder with
 * `{ stream: true }` for the text.
 */
import fc from "fast-check";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { splitAt } from "../helpers/split-at.js";
import { ChatEventDecoder, parseChatEvent } from "../../src/client/chat-events.js";
import { pydanticJson, pyStringLiteral } from "../../src/emulator/pydantic-json.js";
import { ProtocolError } from "../../src/errors.js";
import { Utf8StreamDecoder, type SseEvent } from "../../src/sse/sse-decoder.js";

const encoder = new TextEncoder();

function decode(chunks: Uint8Array[], maxLineLength?: number, joinTokens?: boolean): unknown[] {
  const decoder = new ChatEventDecoder({ maxLineLength, joinTokens });
  const out: unknown[] = [];
  for (const chunk of chunks) out.push(...decoder.push(chunk));
  out.push(...decoder.end());
  return out;
}

const KNOWN = new Set(["pending", "token", "message", "error", "safe_prompt", "plugin_intermediate"]);

/** The oracle: eventsource-parser, JSON.parse, and the protocol's skipping rules (ping events, unknown types). */
function oracle(text: string): unknown[] {
  const out: unknown[] = [];
  const parser = createParser({
    onEvent: (event) => {
      if (event.event === "ping") return;
      const value = JSON.parse(event.data) as { event_type: string };
      if (KNOWN.has(value.event_type)) out.push(value);
    },
  });
  // eventsource-parser, like the standard, needs the BOM gone and a final CR to be a CRLF.
  parser.feed(text.replace(/^\uFEFF/, "").replace(/\r$/, "\r\n"));
  return out;
}

// ---- Streams as the server writes them, and variations ----------------------------------

const tokenText = fc.string({
  unit: fc.constantFrom("a", "b", " ", "ö", "🙂", "日", '"', "\\", "/", "\n", "\t", "\u0001", "\u007f", "}", "{", ":", "é", "data: "),
  maxLength: 10,
});
const tokenData = tokenText.map((text) => `{"event_type": "token", "text": ${pyStringLiteral(text)}}`);
const otherData = fc.oneof(
  fc.nat(9).map((n) => pydanticJson({ event_type: "pending", queue_position: n, queue_size: n + 1 })),
  tokenText.map((text) => pydanticJson({ event_type: "message", message: { id: "m1", content: text, state: "complete" } })),
  tokenText.map((text) => pydanticJson({ event_type: "error", error: text, message: null })),
  tokenText.map((text) => pydanticJson({ event_type: "new_kind", text })),
  // A token event in other JSON spelling (compact, extra field, other key order): the general path.
  tokenText.map((text) => JSON.stringify({ event_type: "token", text })),
  tokenText.map((text) => `{"text": ${pyStringLiteral(text)}, "event_type": "token"}`),
  tokenText.map((text) => `{"event_type": "token", "text": ${pyStringLiteral(text)}, "extra": 1}`),
);
const eol = fc.constantFrom("\r\n", "\r\n", "\r\n", "\n", "\r");
const block = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(tokenData, eol).map(([data, end]) => `data: ${data}${end}${end}`) },
  { weight: 2, arbitrary: fc.tuple(otherData, eol).map(([data, end]) => `data: ${data}${end}${end}`) },
  { weight: 1, arbitrary: fc.tuple(tokenData, eol).map(([data, end]) => `data:${data}${end}${end}`) },
  { weight: 1, arbitrary: eol.map((end) => `: ping - 2023-07-01 12:00:15.000123${end}${end}`) },
  { weight: 1, arbitrary: eol.map((end) => `event: ping${end}data: 2023-07-01 12:00:00.123456${end}${end}`) },
  { weight: 1, arbitrary: fc.tuple(tokenData, eol).map(([data, end]) => `id: 7${end}data: ${data}${end}${end}`) },
  { weight: 1, arbitrary: fc.tuple(tokenData, eol).map(([data, end]) => `event: token${end}data: ${data}${end}${end}`) },
  { weight: 1, arbitrary: eol.map((end) => `${end}`) },
);
const stream = fc.tuple(fc.boolean(), fc.array(block, { maxLength: 12 })).map(([bom, blocks]) => (bom ? "\uFEFF" : "") + blocks.join(""));

describe("ChatEventDecoder", () => {
  it("reads the server's token events, pings and final message", () => {
    const text =
      'data: {"event_type": "pending", "queue_position": 1, "queue_size": 1}\r\n\r\n' +
      'data: {"event_type": "token", "text": "Hello"}\r\n\r\n' +
      'data: {"event_type": "token", "text": " w\\u00f6rld \\ud83d\\ude42 \\"q\\" \\\\"}\r\n\r\n' +
      ": ping - 2023-07-01 12:00:15.000123\r\n\r\n" +
      'data: {"event_type": "token", "text": ""}\r\n\r\n' +
      'data: {"event_type": "message", "message": {"id": "m", "content": "Hello"}}\r\n\r\n';
    expect(decode([encoder.encode(text)])).toEqual([
      { event_type: "pending", queue_position: 1, queue_size: 1 },
      { event_type: "token", text: "Hello" },
      { event_type: "token", text: ' wörld 🙂 "q" \\' },
      { event_type: "token", text: "" },
      { event_type: "message", message: { id: "m", content: "Hello" } },
    ]);
  });

  it("agrees with eventsource-parser + JSON.parse on random streams cut anywhere", () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 16 }), (text, cuts) => {
        expect(decode(splitAt(encoder.encode(text), cuts))).toEqual(oracle(text));
      }),
      { numRuns: 1500 },
    );
  });

  it("refuses what JSON.parse refuses in a token event", () => {
    const bad = [
      'data: {"event_type": "token", "text": "a\\"}\r\n\r\n',
      'data: {"event_type": "token", "text": "a\\x"}\r\n\r\n',
      'data: {"event_type": "token", "text": "a\\u12"}\r\n\r\n',
      'data: {"event_type": "token", "text": "a\\u12g4"}\r\n\r\n',
      'data: {"event_type": "token", "text": "a\tb"}\r\n\r\n',
      'data: {"event_type": "token", "text": "a"b"}\r\n\r\n',
    ];
    const ok = 'data: {"event_type": "token", "text": "ok"}\r\n\r\n';
    for (const text of bad) {
      // Last in the stream, and between two token events.
      expect(() => decode([encoder.encode(ok + text)]), text).toThrow(ProtocolError);
      expect(() => decode([encoder.encode(ok + text + ok)]), text).toThrow(ProtocolError);
    }
  });

  it("keeps the line cap", () => {
    const long = `data: {"event_type": "token", "text": "${"x".repeat(200)}"}\r\n\r\n`;
    const text = `data: {"event_type": "token", "text": "a"}\r\n\r\n${long}${long}`;
    expect(() => decode([encoder.encode(text)], 100)).toThrow(/longer than 100/);
    expect(decode([encoder.encode(text)], 300)).toHaveLength(3);
  });

  it("with joinTokens, gives the token events of one read as one, other events in their place", () => {
    const token = (text: string) => `data: {"event_type": "token", "text": "${text}"}\r\n\r\n`;
    const message = 'data: {"event_type": "message", "message": {"id": "m", "content": "abcd"}}\r\n\r\n';
    const reads = [token("a") + token("b") + ": ping\r\n\r\n" + token("c"), token("d") + message];
    expect(
      decode(
        reads.map((read) => encoder.encode(read)),
        undefined,
        true,
      ),
    ).toEqual([
      { event_type: "token", text: "abc" },
      { event_type: "token", text: "d" },
      { event_type: "message", message: { id: "m", content: "abcd" } },
    ]);
  });

  it("with joinTokens, gives the same text as without, however the stream is cut", () => {
    const text = (events: unknown[]) =>
      events.map((event) => ((event as { event_type: string }).event_type === "token" ? (event as { text: string }).text : "|")).join("");
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 16 }), (input, cuts) => {
        const chunks = splitAt(encoder.encode(input), cuts);
        expect(text(decode(chunks, undefined, true))).toBe(text(decode(chunks)));
      }),
      { numRuns: 500 },
    );
  });
});

describe("Utf8StreamDecoder", () => {
  const bytes = fc.array(
    fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0xff }),
      fc.constantFrom(0xef, 0xbb, 0xbf, 0xf0, 0x9f, 0x99, 0x82, 0xc3, 0xb6, 0xe2, 0x80, 0x94, 0xed, 0xa0),
    ),
    { maxLength: 40 },
  );

  it("decodes as TextDecoder with { stream: true } does, however the bytes are cut", () => {
    fc.assert(
      fc.property(fc.boolean(), bytes, fc.array(fc.nat(), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (bom, raw, cuts, oracleCuts) => {
        const data = new Uint8Array([...(bom ? [0xef, 0xbb, 0xbf] : []), ...raw]);
        const ours = new Utf8StreamDecoder();
        let text = "";
        for (const chunk of splitAt(data, cuts)) text += ours.decode(chunk);
        text += ours.end();
        const reference = new TextDecoder();
        let expected = "";
        for (const chunk of splitAt(data, oracleCuts)) expected += reference.decode(chunk, { stream: true });
        expected += reference.decode();
        expect(text).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("wire checks", () => {
  it.each([
    ['{"event_type": "token"}', /token event without text/],
    ['{"event_type": "error"}', /error event without an error text/],
    ['{"event_type": "message", "message": null}', /message event without a message \(its "message.id"\)/],
    ['{"event_type": "pending", "queue_position": "1"}', /pending event without "queue_position" and "queue_size" numbers/],
  ])("refuses %s with a ProtocolError naming the field", (data, text) => {
    expect(() => parseChatEvent({ event: undefined, data, id: undefined } satisfies SseEvent)).toThrow(text);
  });
});
