import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { completionChunk, textFrames, type CompletionMeta } from "../../src/gateway/completion-chunks.js";

const meta = (model: string): CompletionMeta => ({ id: "chatcmpl-0123456789abcdef", created: 1_764_860_000, model });

describe("textFrames", () => {
  it("writes each text chunk's frame as the chunk object serialized, whatever the text and the model's name", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string(), fc.boolean(), (text, model, withUsage) => {
        const frame = textFrames(meta(model), withUsage)(text);
        expect(frame).toBe(`data: ${JSON.stringify(completionChunk(meta(model), { content: text }, null, withUsage))}\n\n`);
      }),
    );
  });

  it("keeps texts and names that look like the JSON around them", () => {
    for (const text of ['"content":""', '","finish_reason":"stop"}]}\n\ndata: [DONE]\n\n', "\u0000\u2028\ud800", ""]) {
      const frame = textFrames(meta('m "content":""'), true)(text);
      expect(frame.startsWith("data: ") && frame.endsWith("\n\n")).toBe(true);
      const chunk = JSON.parse(frame.slice(6)) as ReturnType<typeof completionChunk>;
      expect(chunk.choices[0]?.delta).toEqual({ content: text });
      expect(chunk.model).toBe('m "content":""');
      expect(chunk.usage).toBeNull();
    }
  });
});
