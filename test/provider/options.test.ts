import { describe, expect, it } from "vitest";
import { checkOptions, DEFAULT_SAMPLING, samplingParameters } from "../../src/provider/options.js";
import { ConfigError } from "../../src/errors.js";

describe("sampling parameters", () => {
  it("are the seed's defaults when nothing is given", () => {
    expect(samplingParameters({})).toEqual({
      top_k: 50,
      top_p: null,
      typical_p: null,
      temperature: 0.35,
      repetition_penalty: 1.1111111111111112,
      max_new_tokens: 1024,
    });
  });

  it("take each override, including null to switch one off, and nothing else", () => {
    const options = { temperature: 0.9, top_k: null, max_new_tokens: 10, baseUrl: "http://x" };
    expect(samplingParameters(options)).toEqual({ ...DEFAULT_SAMPLING, temperature: 0.9, top_k: null, max_new_tokens: 10 });
    expect(Object.keys(samplingParameters(options))).toHaveLength(6);
  });
});

describe("checkOptions", () => {
  it("refuses an unknown option instead of sending or ignoring it", () => {
    expect(() => checkOptions({ temprature: 1 })).toThrow(ConfigError);
    expect(() => checkOptions({ temprature: 1 })).toThrow(/Unknown option "temprature"/);
  });

  it("refuses max_new_tokens null (the server answers 422) and non-numbers", () => {
    expect(() => checkOptions({ max_new_tokens: null })).toThrow(/max_new_tokens must be a number/);
    expect(() => checkOptions({ temperature: "hot" })).toThrow(/temperature must be a number/);
    expect(() => checkOptions({ top_p: null, temperature: 0.2, proxy: undefined, cookies: {} })).not.toThrow();
  });
});
