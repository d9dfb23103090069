import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { formatCookieHeader, parseCookieHeader } from "../../src/cookies/index.js";

describe("parseCookieHeader", () => {
  it("splits on semicolons, keeps '=' inside values, trims, and skips pairs without a name", () => {
    expect(parseCookieHeader(" a=1;b = x=y ; ;=orphan; flag; c=")).toEqual({ a: "1", b: "x=y", c: "" });
  });

  it("keeps the first of two equal names, as servers read the header", () => {
    expect(parseCookieHeader("token=new; token=old")).toEqual({ token: "new" });
  });
});

describe("formatCookieHeader", () => {
  it("joins name=value pairs, and reads back what it wrote", () => {
    const cookies = { "__Secure-next-auth.session-token": "eyJ.a-b_c", pref: "x=y" };
    const header = formatCookieHeader(cookies);
    expect(header).toBe("__Secure-next-auth.session-token=eyJ.a-b_c; pref=x=y");
    expect(parseCookieHeader(header)).toEqual(cookies);
  });

  it("refuses what would break the header, naming the cookie but never its value", () => {
    expect(() => formatCookieHeader({ "bad name": "v" })).toThrow(ConfigError);
    expect(() => formatCookieHeader({ "": "v" })).toThrow(ConfigError);
    for (const value of ["secret;injected=1", "secret\r\nX-Evil: 1", "secret\u0000"]) {
      const error = (() => {
        try {
          formatCookieHeader({ token: value });
        } catch (e) {
          return e as ConfigError;
        }
        throw new Error("no error");
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain("token");
      expect(error.message).not.toContain("secret");
    }
  });
});
