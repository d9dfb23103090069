import { describe, expect, it } from "vitest";
import { PyFloat, pydanticJson, pyStringLiteral, pythonFloatRepr } from "../../src/emulator/pydantic-json.js";

describe("Python json.dumps, as pydantic v1 writes events", () => {
  it.each([
    [1, "1.0"],
    [0.35, "0.35"],
    [1.1111111111111112, "1.1111111111111112"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [123456789012345.6, "123456789012345.6"],
    [1e16, "1e+16"],
    [1.2345e22, "1.2345e+22"],
    [-2.5, "-2.5"],
    [0, "0.0"],
    [-0, "-0.0"],
    [100, "100.0"],
  ])("repr(%s) is %s", (value, repr) => {
    expect(pythonFloatRepr(value)).toBe(repr);
  });

  it("escapes like ensure_ascii: short escapes, \\u00XX for controls and DEL, surrogate pairs for astral characters", () => {
    expect(pyStringLiteral('a"b\\c\n\r\t\b\f')).toBe('"a\\"b\\\\c\\n\\r\\t\\b\\f"');
    expect(pyStringLiteral("\u0001\u001f\u007f ~")).toBe('"\\u0001\\u001f\\u007f ~"');
    expect(pyStringLiteral("wörld café — 日本")).toBe('"w\\u00f6rld caf\\u00e9 \\u2014 \\u65e5\\u672c"');
    expect(pyStringLiteral("🙂")).toBe('"\\ud83d\\ude42"');
    expect(pyStringLiteral("/<>&'")).toBe('"/<>&\'"');
  });

  it("separates with `, ` and `: `, keeps key order, writes big ints exactly", () => {
    const value = {
      event_type: "token",
      list: [1, null, true, false, "x"],
      nested: { b: new PyFloat(2), a: 18446744073709551614n },
      big: 2 ** 60,
    };
    expect(pydanticJson(value)).toBe(
      '{"event_type": "token", "list": [1, null, true, false, "x"], "nested": {"b": 2.0, "a": 18446744073709551614}, "big": 1152921504606846976}',
    );
    expect(pydanticJson({})).toBe("{}");
    expect(pydanticJson([])).toBe("[]");
  });
});
