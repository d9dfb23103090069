import { describe, expect, it } from "vitest";
import { BodyQueue } from "../../src/client/body-queue.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("BodyQueue.text", () => {
  it("joins a body that came whole before the read, a character split between chunks", async () => {
    const body = new BodyQueue(() => {});
    const whole = bytes('{"id": "é"}');
    const split = whole.indexOf(0xc3) + 1;
    body.push(whole.subarray(0, split));
    body.push(whole.subarray(split));
    body.end();
    await expect(body.text()).resolves.toBe('{"id": "é"}');
  });

  it("waits for chunks that come after the read began", async () => {
    const body = new BodyQueue(() => {});
    body.push(bytes("ab"));
    const text = body.text();
    setTimeout(() => {
      body.push(bytes("cd"));
      body.end();
    }, 5);
    await expect(text).resolves.toBe("abcd");
  });

  it("rejects with the network's error, queued chunks or not", async () => {
    const broken = new BodyQueue(() => {});
    broken.push(bytes("ab"));
    broken.fail(new Error("reset"));
    await expect(broken.text()).rejects.toThrow("reset");
    const empty = new BodyQueue(() => {});
    empty.fail(new Error("reset"));
    await expect(empty.text()).rejects.toThrow("reset");
  });

  it("gives an empty string for an empty body", async () => {
    const body = new BodyQueue(() => {});
    body.end();
    await expect(body.text()).resolves.toBe("");
  });
});
