/**
 * Python `json.dumps(obj)` with default arguments, which is what pydantic v1's `.json()`
 * writes into the inference server's event stream: `", "` and `": "` separators, every
 * character outside printable ASCII escaped as `\uXXXX` (lowercase hex, one escape per
 * UTF-16 unit, so astral characters become surrogate pairs), floats in `repr` form.
 */

/** A Python float: written `1.0`, `1e-05`, `1e+16` where JSON.stringify writes `1`, `0.00001`, `10000000000000000`. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Text that is already Python-encoded JSON, spliced in verbatim (large cached string literals). */
export class PyRawJson {
  constructor(readonly json: string) {}
}

/** A JSON value as Python holds it: integral JS numbers and bigints are ints, other numbers floats. */
export type PyValue = null | boolean | number | bigint | string | PyFloat | PyRawJson | PyValue[] | { [key: string]: PyValue };

const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: "\\\\",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x08: "\\b",
  0x0c: "\\f",
};

/** A Python `json.dumps` string literal, quotes included (Python escapes all of U+0000–U+001F and U+007F upwards). */
export function pyStringLiteral(text: string): string {
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x20 && unit < 0x7f && unit !== 0x22 && unit !== 0x5c) continue;
    out += text.slice(runStart, i) + (SHORT_ESCAPES[unit] ?? `\\u${unit.toString(16).padStart(4, "0")}`);
    runStart = i + 1;
  }
  return `${out}${text.slice(runStart)}"`;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const [mantissa = "", exponentText = "0"] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const exponentSign = exponent < 0 ? "-" : "+";
    return `${sign}${fraction}e${exponentSign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const integerPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const fractionPart = digits.slice(exponent + 1);
  return `${sign}${integerPart}.${fractionPart || "0"}`;
}

/** Serializes like Python `json.dumps(value)` (pydantic v1 `.json()`). */
export function pydanticJson(value: PyValue): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isInteger(value)) return pythonFloatRepr(value);
      return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
    case "bigint":
      return value.toString();
    case "string":
      return pyStringLiteral(value);
  }
  if (value instanceof PyFloat) return pythonFloatRepr(value.value);
  if (value instanceof PyRawJson) return value.json;
  if (Array.isArray(value)) return `[${value.map(pydanticJson).join(", ")}]`;
  const members = Object.entries(value).map(([key, member]) => `${pyStringLiteral(key)}: ${pydanticJson(member)}`);
  return `{${members.join(", ")}}`;
}
