import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { StopSequenceCutter } from "../../src/provider/stop-sequences.js";

/** Feed `pieces` through a cutter, as a stream would, and return what a caller sees. */
function cut(stops: string[], pieces: string[]): { text: string; stopped: boolean } {
  const cutter = new StopSequenceCutter(stops);
  let text = "";
  for (const piece of pieces) {
    text += cutter.push(piece);
    if (cutter.stopped) return { text, stopped: true };
  }
  return { text: text + cutter.flush(), stopped: false };
}

describe("StopSequenceCutter", () => {
  test("cuts before the stop string inside one piece", () => {
    expect(cut(["\nUser:"], ["Hi there\nUser: more"])).toEqual({ text: "Hi there", stopped: true });
  });

  test("cuts a stop string that spans pieces, without showing its first half", () => {
    const cutter = new StopSequenceCutter(["STOP"]);
    expect(cutter.push("abc ST")).toBe("abc ");
    expect(cutter.push("OP and more")).toBe("");
    expect(cutter.stopped).toBe(true);
    expect(cutter.push("later")).toBe("");
  });

  test("a held-back tail that does not become a stop string is shown with the next piece, or at the end", () => {
    const cutter = new StopSequenceCutter(["STOP"]);
    expect(cutter.push("a ST")).toBe("a ");
    expect(cutter.push("ART")).toBe("START");
    expect(cutter.push(" S")).toBe(" ");
    expect(cutter.flush()).toBe("S");
    expect(cutter.stopped).toBe(false);
  });

  test("of several stop strings, the one complete first wins, however the text is split; empty ones are ignored", () => {
    expect(cut(["world", "o w", ""], ["Hello", " world"])).toEqual({ text: "Hell", stopped: true });
    // "a" is complete before "ba " is: the model would have stopped after "ba".
    expect(cut(["ba ", "a"], ["ba "])).toEqual({ text: "b", stopped: true });
    expect(cut(["ba ", "a"], ["b", "a", " "])).toEqual({ text: "b", stopped: true });
    // Ending together, the longer one wins.
    expect(cut(["ab", "b"], ["xa", "b"])).toEqual({ text: "x", stopped: true });
  });

  test("without stop strings every piece passes at once", () => {
    const cutter = new StopSequenceCutter([]);
    expect(cutter.push("abc")).toBe("abc");
  });

  test("property: for any split of a text, the output is the text before the stop string complete first", () => {
    const alphabet = fc.constantFrom("a", "b", "c", " ", "\n");
    const text = fc.array(alphabet, { maxLength: 60 }).map((chars) => chars.join(""));
    const stop = fc.array(alphabet, { minLength: 1, maxLength: 4 }).map((chars) => chars.join(""));
    fc.assert(
      fc.property(text, fc.array(stop, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(60), { maxLength: 10 }), (whole, stops, cuts) => {
        const points = [...new Set(cuts.map((at) => Math.min(at, whole.length)))].sort((a, b) => a - b);
        const pieces = [0, ...points, whole.length].slice(1).map((end, i, ends) => whole.slice(i === 0 ? 0 : ends[i - 1], end));
        const found = stops.filter((s) => whole.includes(s)).map((s) => ({ at: whole.indexOf(s), end: whole.indexOf(s) + s.length }));
        found.sort((a, b) => a.end - b.end || a.at - b.at);
        const first = found[0];
        const expected = first ? { text: whole.slice(0, first.at), stopped: true } : { text: whole, stopped: false };
        expect(cut(stops, pieces)).toEqual(expected);
      }),
    );
  });
});
