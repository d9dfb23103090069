import { describe, expect, it } from "vitest";
import { formatPrompt, prompterContent } from "../../src/provider/format-prompt.js";
import { ConfigError } from "../../src/errors.js";

describe("formatPrompt (gpt4free's format_prompt)", () => {
  it("sends one message as its bare content", () => {
    expect(formatPrompt([{ role: "user", content: "Hello, how are you?" }])).toBe("Hello, how are you?");
  });

  it("sends a conversation as Role: content lines, then Assistant:", () => {
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "Bye" },
    ] as const;
    expect(formatPrompt(messages)).toBe("System: Be brief.\nUser: Hi\nAssistant: Hello!\nUser: Bye\nAssistant:");
  });

  it("capitalizes roles as Python's str.capitalize does", () => {
    expect(
      formatPrompt([
        { role: "DEVELOPER", content: "a" },
        { role: "user", content: "b" },
      ]),
    ).toBe("Developer: a\nUser: b\nAssistant:");
  });

  it("never mutates the caller's array", () => {
    const messages = Object.freeze([Object.freeze({ role: "user", content: "x" }), Object.freeze({ role: "user", content: "y" })]);
    expect(() => formatPrompt(messages)).not.toThrow();
    expect(messages).toHaveLength(2);
  });

  it("refuses an empty conversation with a ConfigError that says what to pass", () => {
    expect(() => formatPrompt([])).toThrow(ConfigError);
    expect(() => formatPrompt([])).toThrow(/at least one message/);
  });

  it("sends the prompt as the user wrote it, or in the seed's instruction markers with the gpt4free format", () => {
    expect(prompterContent([{ role: "user", content: "Hi" }])).toBe("Hi");
    expect(prompterContent([{ role: "user", content: "Hi" }], "gpt4free")).toBe("<s>[INST]\nHi\n[/INST]");
  });
});
