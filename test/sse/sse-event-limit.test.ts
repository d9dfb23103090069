/**
 * One event's data is bounded as one line is: `data:` lines without a blank line between
 * them would otherwise grow a single event until the process runs out of memory.
 */
import { describe, expect, it } from "vitest";
import { SseDecoder, SseEventTooLongError } from "../../src/sse/sse-decoder.js";

describe("SseDecoder: the longest event", () => {
  it("refuses an event of short data lines past `maxEventLength`, whatever the chunks", () => {
    const decoder = new SseDecoder({ maxEventLength: 100 });
    for (let i = 0; i < 10; i++) decoder.push("data: 123456789\n"); // 10 × 9 characters and 9 line breaks: 99
    expect(() => decoder.push("data: x\n")).toThrow(SseEventTooLongError);
    expect(() => new SseDecoder({ maxEventLength: 100 }).push("data: 12345\n".repeat(20))).toThrow(/longer than 100 characters/);
  });

  it("accepts an event exactly at the limit, and counts each event on its own", () => {
    const decoder = new SseDecoder({ maxEventLength: 100 });
    const event = `data: ${"a".repeat(49)}\ndata: ${"b".repeat(50)}\n\n`;
    expect(decoder.push(event.repeat(3)).map((e) => e.data.length)).toEqual([100, 100, 100]);
  });

  it("takes `maxLineLength` as the limit by default", () => {
    expect(() => new SseDecoder({ maxLineLength: 50 }).push("data: 1234567890\n".repeat(6))).toThrow(SseEventTooLongError);
    expect(new SseDecoder({ maxLineLength: 50, maxEventLength: 1000 }).push("data: 1234567890\n".repeat(6) + "\n")).toHaveLength(1);
  });

  it("an event at the end of the stream without its blank line is bounded too", () => {
    const decoder = new SseDecoder({ maxEventLength: 10 });
    decoder.push("data: 12345");
    expect(() => decoder.end()).not.toThrow();
    const over = new SseDecoder({ maxEventLength: 10 });
    over.push("data: 12345\ndata: 67890");
    expect(() => over.end()).toThrow(SseEventTooLongError);
  });
});
