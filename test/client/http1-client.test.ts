/**
 * The hand-written HTTP/1.1 client (src/client/http1): the response parser on its own
 * (unit cases and a fast-check property over framing and chunk boundaries), the whole
 * pool against undici as the oracle over a raw socket, and the pool's connection
 * handling (reuse, queueing, abort, cancel, close, destroy) against node:http.
 */
import fc from "fast-check";
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from "node:net";
import { Client } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { closedPort } from "../helpers/closed-port.js";
import { splitAt } from "../helpers/split-at.js";
import type { BodyQueue } from "../../src/client/body-queue.js";
import { serializeRequest } from "../../src/client/http1/connection.js";
import { Http1Pool } from "../../src/client/http1/pool.js";
import { HttpParseError, MAX_HEAD_BYTES, ResponseParser, type ResponseHeadFields } from "../../src/client/http1/response-parser.js";

const latin1 = (text: string): Buffer => Buffer.from(text, "latin1");

// ---------------------------------------------------------------------------------------------
// The parser on its own
// ---------------------------------------------------------------------------------------------

interface Recorded {
  heads: ResponseHeadFields[];
  chunks: Buffer[];
  ends: number;
  /** "head" / "body" / "end" in the order the callbacks came. */
  events: string[];
}

function newParser(options?: { headRequest?: boolean }): { parser: ResponseParser; got: Recorded; body(): string } {
  const got: Recorded = { heads: [], chunks: [], ends: 0, events: [] };
  const parser = new ResponseParser(
    {
      onHead: (head) => {
        got.heads.push(head);
        got.events.push("head");
      },
      onBody: (bytes) => {
        got.chunks.push(Buffer.from(bytes));
        got.events.push("body");
      },
      onEnd: () => {
        got.ends++;
        got.events.push("end");
      },
    },
    options,
  );
  return { parser, got, body: () => Buffer.concat(got.chunks).toString("latin1") };
}

/** Push the pieces in turn (strings as latin1); the push results, one per piece. */
function feed(parser: ResponseParser, pieces: Array<string | Uint8Array>): number[] {
  return pieces.map((piece) => parser.push(typeof piece === "string" ? latin1(piece) : Buffer.from(piece)));
}

/** The same bytes one at a time. */
function bytewise(text: string): string[] {
  return [...text];
}

describe("ResponseParser", () => {
  it("reads a Content-Length body, whole or a byte at a time", () => {
    const wire = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing: b\r\n\r\nhello";
    for (const pieces of [[wire], bytewise(wire)]) {
      const { parser, got, body } = newParser();
      const used = feed(parser, pieces);
      expect(got.heads).toHaveLength(1);
      const head = got.heads[0] as ResponseHeadFields;
      expect(head.status).toBe(200);
      expect([...head.headers]).toEqual([
        ["content-length", "5"],
        ["x-thing", "b"],
      ]);
      expect(head.keepAlive).toBe(true);
      expect(body()).toBe("hello");
      expect(got.ends).toBe(1);
      expect(got.events[0]).toBe("head");
      expect(got.events.at(-1)).toBe("end");
      expect(parser.done).toBe(true);
      expect(used.reduce((a, b) => a + b, 0)).toBe(wire.length);
    }
  });

  it.each([
    ["a list", "Content-Length: 5, 5"],
    ["two headers", "Content-Length: 5\r\nContent-Length: 5"],
  ])("takes a Content-Length repeated with one value (%s), as RFC 9112 allows", (_name, framing) => {
    const { parser, got, body } = newParser();
    feed(parser, [`HTTP/1.1 200 OK\r\n${framing}\r\n\r\nhello`]);
    expect(body()).toBe("hello");
    expect(got.ends).toBe(1);
  });

  it("ends a Content-Length: 0 answer at its head", () => {
    const { parser, got } = newParser();
    feed(parser, ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);
    expect(parser.done).toBe(true);
    expect(got.chunks).toEqual([]);
    expect(got.ends).toBe(1);
  });

  it("reads a chunked body with chunk extensions and trailers, which stay out of the headers", () => {
    const wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;name=value\r\nhello\r\n" +
      "1A ;ext\r\nabcdefghijklmnopqrstuvwxyz\r\n" +
      '001;q="a b"\r\n!\r\n' +
      "0;last\r\nX-Trailer: t\r\nOther: u\r\n\r\n";
    for (const pieces of [[wire], bytewise(wire)]) {
      const { parser, got, body } = newParser();
      const used = feed(parser, pieces);
      expect(body()).toBe("helloabcdefghijklmnopqrstuvwxyz!");
      expect(got.ends).toBe(1);
      expect(parser.done).toBe(true);
      const head = got.heads[0] as ResponseHeadFields;
      expect(head.keepAlive).toBe(true);
      expect([...head.headers.keys()]).toEqual(["transfer-encoding"]);
      expect(used.reduce((a, b) => a + b, 0)).toBe(wire.length);
    }
  });

  it("reads a body without length until close()", () => {
    const { parser, got, body } = newParser();
    feed(parser, ["HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome ", "more"]);
    expect(parser.readsUntilClose).toBe(true);
    expect(parser.done).toBe(false);
    expect(got.heads[0]?.keepAlive).toBe(false);
    expect(body()).toBe("some more");
    expect(got.ends).toBe(0);
    parser.close();
    expect(parser.done).toBe(true);
    expect(got.ends).toBe(1);
    // A second close() changes nothing.
    parser.close();
    expect(got.ends).toBe(1);
  });

  it("reads until close when the last transfer coding is not chunked", () => {
    const { parser, got, body } = newParser();
    feed(parser, ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 3\r\n\r\n3\r\nabc"]);
    expect(parser.readsUntilClose).toBe(true);
    expect(got.heads[0]?.keepAlive).toBe(false);
    parser.close();
    expect(body()).toBe("3\r\nabc");
    expect(got.ends).toBe(1);
  });

  it.each([204, 304])("gives %i no body, whatever its headers say", (status) => {
    const head = `HTTP/1.1 ${status} X\r\nContent-Length: 10\r\n\r\n`;
    const { parser, got } = newParser();
    const [used] = feed(parser, [`${head}0123456789`]);
    expect(parser.done).toBe(true);
    expect(got.heads[0]?.status).toBe(status);
    expect(got.heads[0]?.keepAlive).toBe(true);
    expect(got.chunks).toEqual([]);
    expect(got.ends).toBe(1);
    expect(used).toBe(head.length);
  });

  it("gives the answer to HEAD no body (Content-Length or chunked)", () => {
    for (const framing of ["Content-Length: 5", "Transfer-Encoding: chunked"]) {
      const head = `HTTP/1.1 200 OK\r\n${framing}\r\n\r\n`;
      const { parser, got } = newParser({ headRequest: true });
      const [used] = feed(parser, [`${head}hello`]);
      expect(parser.done).toBe(true);
      expect(got.heads[0]?.keepAlive).toBe(true);
      expect(got.chunks).toEqual([]);
      expect(got.ends).toBe(1);
      expect(used).toBe(head.length);
    }
  });

  it("skips interim 100 and 103 answers", () => {
    const wire =
      "HTTP/1.1 100 Continue\r\n\r\n" +
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    for (const pieces of [[wire], bytewise(wire)]) {
      const { parser, got, body } = newParser();
      feed(parser, pieces);
      expect(got.heads).toHaveLength(1);
      expect(got.heads[0]?.status).toBe(201);
      expect(got.heads[0]?.headers.has("link")).toBe(false);
      expect(body()).toBe("ok");
      expect(got.ends).toBe(1);
    }
  });

  it.each([
    ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.1 200 OK\r\nConnection: te\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false],
  ])("keep-alive of %j is %s", (wire, keepAlive) => {
    const { parser, got } = newParser();
    feed(parser, [wire]);
    expect(parser.done).toBe(true);
    expect(got.heads[0]?.keepAlive).toBe(keepAlive);
  });

  it("joins repeated headers with ', ', lower-cases names and trims values", () => {
    const { parser, got } = newParser();
    feed(parser, ["HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nVary: x\r\nset-cookie: b=2\r\nVARY:y\r\nX-Pad: \t v  w \t\r\nEmpty:\r\nContent-Length: 0\r\n\r\n"]);
    const headers = got.heads[0]?.headers;
    expect(headers?.get("set-cookie")).toBe("a=1, b=2");
    expect(headers?.get("vary")).toBe("x, y");
    expect(headers?.get("x-pad")).toBe("v  w");
    expect(headers?.get("empty")).toBe("");
    expect(headers?.has("Set-Cookie")).toBe(false);
  });

  it("strips only spaces and tabs around a value (RFC 9110), not other whitespace", () => {
    const { parser, got } = newParser();
    feed(parser, ["HTTP/1.1 200 OK\r\nX-A: \xa0v\xa0\r\nX-B:\t\vw\f \r\nContent-Length: 0\r\n\r\n"]);
    expect(got.heads[0]?.headers.get("x-a")).toBe("\xa0v\xa0");
    expect(got.heads[0]?.headers.get("x-b")).toBe("\vw\f");
  });

  it("accepts a status line without reason phrase and repeated equal Content-Lengths", () => {
    const { parser, got, body } = newParser();
    feed(parser, ["HTTP/1.1 200\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"]);
    expect(got.heads[0]?.status).toBe(200);
    expect(body()).toBe("ok");
    expect(parser.done).toBe(true);
  });

  describe("rejects with HttpParseError", () => {
    const cases: Array<[string, string]> = [
      ["a status line of HTTP/2", "HTTP/2 200 OK\r\n\r\n"],
      ["a two-digit status", "HTTP/1.1 20 OK\r\n\r\n"],
      ["a status glued to its reason", "HTTP/1.1 200OK\r\n\r\n"],
      ["a status line of another protocol", "ICY 200 OK\r\n\r\n"],
      ["a lower-case protocol name", "http/1.1 200 OK\r\n\r\n"],
      ["a lone LF in the reason phrase", "HTTP/1.1 200 O\nK\r\nContent-Length: 0\r\n\r\n"],
      ["a lone CR in the reason phrase", "HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n"],
      ["an HTTP/1.2 status line", "HTTP/1.2 200 OK\r\n\r\n"],
      ["a status line cut after the code's first digits", "HTTP/1.1 20\r\n\r\n"],
      ["a header line without colon", "HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n"],
      ["a header with an empty name", "HTTP/1.1 200 OK\r\n: value\r\n\r\n"],
      ["a space before the colon", "HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n"],
      ["a folded header line", "HTTP/1.1 200 OK\r\nX-A: b\r\n  c\r\n\r\n"],
      ["conflicting Content-Length headers", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"],
      ["a Content-Length list that disagrees", "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd"],
      ["a negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"],
      ["a non-numeric Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"],
      ["an empty Content-Length", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"],
      ["a Content-Length with a sign", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello"],
      ["a Content-Length of 16 digits", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000\r\n\r\n"],
      ["a non-hex chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n"],
      ["a negative chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n"],
      ["a 0x chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n"],
      ["an empty chunk size line", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"],
      ["a chunk size line ending in a bare LF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n"],
      ["chunk data longer than its size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n"],
      ["chunk data longer than its size, by its CR", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\rX"],
      ["a chunk-size line over 4 KiB", `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;${"e".repeat(5000)}`],
    ];
    it.each(cases)("for %s, whole or a byte at a time", (_name, wire) => {
      for (const pieces of [[wire], bytewise(wire)]) {
        const { parser, got } = newParser();
        let thrown: unknown;
        try {
          feed(parser, pieces);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(HttpParseError);
        expect((thrown as HttpParseError).code).toBe("HPE_INVALID");
        expect(got.ends).toBe(0);
      }
    });

    it("for a head over MAX_HEAD_BYTES, complete or still unfinished", () => {
      const big = `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(MAX_HEAD_BYTES)}\r\n`;
      expect(() => newParser().parser.push(latin1(`${big}\r\n`))).toThrow(HttpParseError);
      expect(() => newParser().parser.push(latin1(big))).toThrow(HttpParseError);
      // Fed in pieces, it fails once the kept bytes pass the limit.
      const { parser } = newParser();
      const piece = latin1(`X-Some: ${"b".repeat(1000)}\r\n`);
      parser.push(latin1("HTTP/1.1 200 OK\r\n"));
      let pushed = 0;
      expect(() => {
        for (; pushed < 100; pushed++) parser.push(piece);
      }).toThrow(HttpParseError);
      expect(pushed * piece.length).toBeGreaterThan(MAX_HEAD_BYTES - 2 * piece.length);
      expect(pushed * piece.length).toBeLessThanOrEqual(MAX_HEAD_BYTES + piece.length);
    });

    it("takes a head of exactly MAX_HEAD_BYTES whether it comes whole or with its last byte apart", () => {
      const start = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Big: ";
      const wire = latin1(`${start}${"a".repeat(MAX_HEAD_BYTES - start.length)}\r\n\r\n`);
      for (const pieces of [[wire], [wire.subarray(0, -1), wire.subarray(-1)], [wire.subarray(0, -3), wire.subarray(-3)]]) {
        const { parser } = newParser();
        feed(parser, pieces);
        expect(parser.done).toBe(true);
      }
      const over = latin1(`${start}${"a".repeat(MAX_HEAD_BYTES - start.length + 1)}\r\n\r\n`);
      for (const pieces of [[over], [over.subarray(0, -1), over.subarray(-1)]]) {
        expect(() => feed(newParser().parser, pieces)).toThrow(HttpParseError);
      }
    });

    it("accepts a head just under MAX_HEAD_BYTES", () => {
      const start = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Big: ";
      const wire = `${start}${"a".repeat(MAX_HEAD_BYTES - start.length - 10)}\r\n\r\n`;
      const { parser } = newParser();
      parser.push(latin1(wire));
      expect(parser.done).toBe(true);
    });
  });

  describe("close() before the end", () => {
    it.each([
      ["before any byte", [], /without answering/],
      ["in the middle of the head", ["HTTP/1.1 200 OK\r\nContent-"], /in the middle/],
      ["in the middle of a Content-Length body", ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"], /in the middle/],
      ["in the middle of a chunk", ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe"], /in the middle/],
      ["between chunks", ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"], /in the middle/],
      ["in the trailers", ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n"], /in the middle/],
      ["after an interim answer", ["HTTP/1.1 100 Continue\r\n\r\n"], /./],
    ] as Array<[string, string[], RegExp]>)("%s throws", (_name, pieces, message) => {
      const { parser, got } = newParser();
      feed(parser, pieces);
      expect(() => parser.close()).toThrow(message);
      expect(parser.done).toBe(false);
      expect(got.ends).toBe(0);
    });

    it("after the end does nothing", () => {
      const { parser, got } = newParser();
      feed(parser, ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]);
      expect(() => parser.close()).not.toThrow();
      expect(got.ends).toBe(1);
    });
  });

  describe("bytes after the end of the answer", () => {
    const next = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

    it("are left over by a Content-Length body", () => {
      const response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      const { parser, body } = newParser();
      expect(parser.push(latin1(response + next))).toBe(response.length);
      expect(body()).toBe("ok");
      // Once done, nothing more is taken.
      expect(parser.push(latin1(next))).toBe(0);
      expect(body()).toBe("ok");
    });

    it("are left over by a chunked body, its last line split over pushes", () => {
      const { parser, body } = newParser();
      const first = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r";
      expect(parser.push(latin1(first))).toBe(first.length);
      expect(parser.done).toBe(false);
      expect(parser.push(latin1(`\n${next}`))).toBe(1);
      expect(parser.done).toBe(true);
      expect(body()).toBe("ok");
    });

    it("are left over after a head that came in pieces", () => {
      const { parser } = newParser();
      expect(parser.push(latin1("HTTP/1.1 204 No"))).toBe(15);
      expect(parser.push(latin1(` Content\r\n\r\n${next}`))).toBe(" Content\r\n\r\n".length);
      expect(parser.done).toBe(true);
    });

    it("are left over after a body split over pushes", () => {
      const { parser, body } = newParser();
      expect(parser.push(latin1("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab"))).toBe(40);
      expect(parser.push(latin1("cd"))).toBe(2);
      expect(parser.push(latin1(`ef${next}`))).toBe(2);
      expect(body()).toBe("abcdef");
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Generated answers: the parser property and the differential test share them
// ---------------------------------------------------------------------------------------------

type Framing = "length" | "chunked" | "close";

interface ChunkStyle {
  upper: boolean;
  zeros: number;
  extension: string;
}

interface AnswerCase {
  version: "1.0" | "1.1";
  status: number;
  reason: string;
  interims: Array<{ status: number; headers: Array<[string, string]> }>;
  headers: Array<[string, string]>;
  /** Whitespace around each header value (trimmed by the parser). */
  pads: string[];
  connection: "" | "close" | "keep-alive";
  body: Uint8Array;
  framing: Framing;
  chunkCuts: number[];
  chunkStyles: ChunkStyle[];
  lastExtension: string;
  trailers: Array<[string, string]>;
}

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const RESERVED = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "proxy-connection", "trailer"]);
const token = fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength: 10 });
const headerName = token.filter((name) => !RESERVED.has(name.toLowerCase()));
const valueChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)) },
  { weight: 2, arbitrary: fc.constantFrom(" ", "\t") },
);
/** Field values: visible ASCII with inner spaces; none at the edges. */
const headerValue = fc.string({ unit: valueChar, maxLength: 20 }).map((value) => value.replace(/^[ \t]+|[ \t]+$/g, ""));
const header = fc.tuple(headerName, headerValue);

function answerCase(options: { strict: boolean }): fc.Arbitrary<AnswerCase> {
  const { strict } = options;
  // llhttp takes `;name`, `;name=token` and `;name="quoted"`; ours takes anything after `;`.
  const strictExtension = fc.oneof(
    fc.constant(""),
    token.map((name) => `;${name}`),
    fc.tuple(token, token).map(([name, value]) => `;${name}=${value}`),
    fc.tuple(token, fc.string({ unit: fc.constantFrom("a", "b", " ", "="), maxLength: 6 })).map(([name, value]) => `;${name}="${value}"`),
  );
  const extension = strict
    ? strictExtension
    : fc.oneof(strictExtension, fc.tuple(fc.constantFrom("", " ", "\t ", " \t"), strictExtension).map(([pad, ext]) => (ext ? pad + ext : ext)));
  return fc
    .record({
      version: fc.constantFrom("1.0", "1.1") as fc.Arbitrary<"1.0" | "1.1">,
      status: fc.integer({ min: 200, max: 599 }).filter((status) => status !== 204 && status !== 304),
      reason: fc.constantFrom("", " ", " OK", " Some Reason Here", " x:y/z"),
      interims: fc.array(
        fc.record({ status: strict ? fc.constant(103) : fc.constantFrom(100, 103), headers: fc.array(header, { maxLength: 2 }) }),
        { maxLength: 2 },
      ),
      headers: fc.array(header, { maxLength: 6 }),
      pads: fc.array(strict ? fc.constantFrom("", " ") : fc.constantFrom("", " ", "\t", "  \t"), { minLength: 8, maxLength: 8 }),
      connection: fc.constantFrom("", "close", "keep-alive") as fc.Arbitrary<"" | "close" | "keep-alive">,
      body: fc.oneof({ weight: 1, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }) }),
      framing: fc.constantFrom("length", "chunked", "close") as fc.Arbitrary<Framing>,
      chunkCuts: fc.array(fc.nat(), { maxLength: 8 }),
      chunkStyles: fc.array(fc.record({ upper: fc.boolean(), zeros: fc.nat(2), extension }), { minLength: 1, maxLength: 4 }),
      lastExtension: extension,
      trailers: fc.array(header, { maxLength: 3 }),
    })
    // A chunked HTTP/1.0 answer is a fault llhttp rejects: the oracle gets HTTP/1.1 for it.
    .map((c) => (strict && c.version === "1.0" && c.framing === "chunked" ? { ...c, version: "1.1" as const } : c));
}

interface BuiltAnswer {
  wire: Buffer;
  /** Every header of the final answer as the parser should report it. */
  headers: Map<string, string>;
  keepAlive: boolean;
}

function addHeader(map: Map<string, string>, name: string, value: string): void {
  const key = name.toLowerCase();
  const before = map.get(key);
  map.set(key, before === undefined ? value : `${before}, ${value}`);
}

type Corruption = "bad-chunk-size" | "chunk-overflow" | "conflicting-length" | "truncated" | "no-colon" | "bad-status";

function buildAnswer(c: AnswerCase, corruption?: Corruption): BuiltAnswer {
  let head = "";
  for (const interim of c.interims) {
    head += `HTTP/1.1 ${interim.status} Interim\r\n`;
    for (const [name, value] of interim.headers) head += `${name}: ${value}\r\n`;
    head += "\r\n";
  }
  const headers = new Map<string, string>();
  const lines: Array<[string, string]> = [...c.headers];
  if (c.connection) lines.push(["Connection", c.connection]);
  if (c.framing === "length") lines.push(["Content-Length", String(c.body.length + (corruption === "truncated" ? 5 : 0))]);
  if (corruption === "conflicting-length") lines.push(["content-length", String(c.body.length + 1)]);
  if (c.framing === "chunked") lines.push(["Transfer-Encoding", "chunked"]);
  head += corruption === "bad-status" ? `HTTP/${c.version} 2x0 OK\r\n` : `HTTP/${c.version} ${c.status}${c.reason}\r\n`;
  lines.forEach(([name, value], i) => {
    const pad = c.pads[i % c.pads.length] ?? "";
    head += `${name}:${pad}${value}${pad}\r\n`;
    addHeader(headers, name, value);
  });
  if (corruption === "no-colon") head += "BadHeaderLine\r\n";
  head += "\r\n";

  const parts: Buffer[] = [latin1(head)];
  if (c.framing === "chunked") {
    const chunks = splitAt(c.body, c.chunkCuts).filter((chunk) => chunk.length > 0);
    chunks.forEach((chunk, i) => {
      const style = c.chunkStyles[i % c.chunkStyles.length] as ChunkStyle;
      let size = "0".repeat(style.zeros) + chunk.length.toString(16);
      if (style.upper) size = size.toUpperCase();
      if (i === 0 && corruption === "bad-chunk-size") size = "zz";
      parts.push(latin1(`${size}${style.extension}\r\n`), Buffer.from(chunk));
      if (i === 0 && corruption === "chunk-overflow") parts.push(latin1("x"));
      parts.push(latin1("\r\n"));
    });
    parts.push(latin1(`0${c.lastExtension}\r\n`));
    for (const [name, value] of c.trailers) parts.push(latin1(`${name}: ${value}\r\n`));
    parts.push(latin1("\r\n"));
  } else {
    parts.push(Buffer.from(c.body));
  }
  const keepAlive = c.framing !== "close" && (c.version === "1.1" ? c.connection !== "close" : c.connection === "keep-alive");
  return { wire: Buffer.concat(parts), headers, keepAlive };
}

describe("ResponseParser property: any framing, any cut", () => {
  it("reports the status, the headers and the body, and ends once", () => {
    fc.assert(
      fc.property(answerCase({ strict: false }), fc.array(fc.nat(), { maxLength: 12 }), fc.uint8Array({ maxLength: 12 }), (c, cuts, extra) => {
        const { wire, headers, keepAlive } = buildAnswer(c);
        // Bytes after the answer (the start of another one) must be left over; a body until close has no after.
        const trailing = c.framing === "close" ? new Uint8Array(0) : extra;
        const all = Buffer.concat([wire, trailing]);
        const { parser, got } = newParser();
        let used = 0;
        for (const piece of splitAt(all, cuts)) {
          if (parser.done) break;
          const n = parser.push(Buffer.from(piece));
          expect(n).toBeGreaterThanOrEqual(0);
          expect(n).toBeLessThanOrEqual(piece.length);
          used += n;
        }
        if (c.framing === "close") {
          expect(parser.readsUntilClose).toBe(true);
          expect(got.ends).toBe(0);
          parser.close();
        }
        expect(parser.done).toBe(true);
        expect(used).toBe(c.framing === "close" ? all.length : wire.length);
        expect(got.heads).toHaveLength(1);
        const head = got.heads[0] as ResponseHeadFields;
        expect(head.status).toBe(c.status);
        expect(head.headers).toEqual(headers);
        expect(head.keepAlive).toBe(keepAlive);
        expect(Buffer.concat(got.chunks).equals(Buffer.from(c.body))).toBe(true);
        expect(got.ends).toBe(1);
        expect(got.events[0]).toBe("head");
        expect(got.events.indexOf("end")).toBe(got.events.length - 1);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Servers for the socket tests
// ---------------------------------------------------------------------------------------------

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, what = "a condition"): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

async function readAll(body: BodyQueue): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for (let chunk = await body.read(); chunk; chunk = await body.read()) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function tcpSockets(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "TCPSocketWrap").length;
}

/** A signal that bounds a test's wait, so a hang fails instead of stalling. */
const bounded = (): AbortSignal => AbortSignal.timeout(3000);
const get = (path: string) => ({ method: "GET", path, headers: {} });

interface Listening {
  url: URL;
  /** Connections accepted so far. */
  connections: number;
  /** Server-side sockets still open. */
  open: Set<Socket>;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<Listening> {
  const listening: Listening = {
    url: new URL("http://127.0.0.1"),
    connections: 0,
    open: new Set(),
    close: async () => {
      for (const socket of listening.open) socket.destroy();
      const closed = once(server, "close");
      server.close();
      await closed;
    },
  };
  server.on("connection", (socket: Socket) => {
    listening.connections++;
    listening.open.add(socket);
    socket.on("close", () => listening.open.delete(socket));
    socket.on("error", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  listening.url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return listening;
}

/** A raw server: `answer` is called with each request's head (its bytes up to the blank line). */
async function rawServer(answer: (socket: Socket, requestHead: string) => void): Promise<Listening> {
  const server = createNetServer((socket) => {
    let pending = "";
    socket.on("data", (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      for (let end = pending.indexOf("\r\n\r\n"); end !== -1; end = pending.indexOf("\r\n\r\n")) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        answer(socket, head);
      }
    });
  });
  return listen(server);
}

interface HttpTestServer extends Listening {
  /** `METHOD path` of every request, in order. */
  requests: string[];
  /** Request bodies, in order. */
  bodies: string[];
  hostHeaders: Array<string | undefined>;
}

async function httpServer(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<HttpTestServer> {
  const requests: string[] = [];
  const bodies: string[] = [];
  const hostHeaders: Array<string | undefined> = [];
  const server = createHttpServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    hostHeaders.push(request.headers.host);
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (text: string) => (body += text));
    request.on("end", () => bodies.push(body));
    handler(request, response);
  });
  const listening = await listen(server);
  const close = listening.close;
  const result: HttpTestServer = Object.assign(listening, { requests, bodies, hostHeaders });
  result.close = async () => {
    server.closeAllConnections();
    await close();
  };
  cleanups.push(() => result.close());
  return result;
}

function newPool(url: URL, connections?: number): Http1Pool {
  const pool = new Http1Pool(url, { connections, connectTimeout: 5000 });
  cleanups.push(() => pool.destroy());
  return pool;
}

// ---------------------------------------------------------------------------------------------
// Differential: the pool and undici read the same bytes from a raw socket
// ---------------------------------------------------------------------------------------------

type Outcome = { ok: true; status: number; headers?: Map<string, string>; body: Buffer } | { ok: false; error: unknown };

async function writePieces(socket: Socket, pieces: Uint8Array[], end: boolean): Promise<void> {
  for (const piece of pieces) {
    if (socket.destroyed) return;
    if (piece.length) socket.write(piece);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (end && !socket.destroyed) socket.end();
}

async function withOurs(url: URL): Promise<Outcome> {
  const pool = new Http1Pool(url, { connections: 1, connectTimeout: 5000 });
  try {
    const response = await pool.request(get("/"), bounded());
    return { ok: true, status: response.status, headers: response.headers, body: await readAll(response.body) };
  } catch (error) {
    return { ok: false, error };
  } finally {
    await pool.close();
  }
}

async function withUndici(url: URL): Promise<Outcome> {
  const client = new Client(url.origin, { pipelining: 1, headersTimeout: 3000, bodyTimeout: 3000 });
  try {
    const response = await client.request({ method: "GET", path: "/" });
    return { ok: true, status: response.statusCode, body: Buffer.from(await response.body.arrayBuffer()) };
  } catch (error) {
    return { ok: false, error };
  } finally {
    await client.destroy();
  }
}

describe("Http1Pool against undici as the oracle", () => {
  /** null: a valid answer (two runs in three). */
  const corruption = fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom<Corruption>("bad-chunk-size", "chunk-overflow", "conflicting-length", "truncated", "no-colon", "bad-status") },
  );

  it("reads what undici reads and fails where undici fails", async () => {
    await fc.assert(
      fc.asyncProperty(answerCase({ strict: true }), corruption, fc.array(fc.nat(), { maxLength: 10 }), async (generated, broken, cuts) => {
        let c = generated;
        if (broken === "bad-chunk-size" || broken === "chunk-overflow") {
          c = { ...c, version: "1.1", framing: "chunked", body: c.body.length ? c.body : Uint8Array.of(0x61) };
        } else if (broken === "conflicting-length" || broken === "truncated") {
          c = { ...c, framing: "length" };
        }
        const { wire, headers } = buildAnswer(c, broken ?? undefined);
        const pieces = splitAt(wire, cuts);
        const server = await rawServer((socket) => void writePieces(socket, pieces, c.framing === "close" || broken !== null));
        try {
          const ours = await withOurs(server.url);
          const theirs = await withUndici(server.url);
          if (broken) {
            expect(theirs.ok, `undici read the ${broken} answer`).toBe(false);
            expect(ours.ok, `ours read the ${broken} answer`).toBe(false);
            return;
          }
          if (!theirs.ok) throw theirs.error;
          if (!ours.ok) throw ours.error;
          expect(theirs.status).toBe(c.status);
          expect(ours.status).toBe(theirs.status);
          expect(ours.headers).toEqual(headers);
          expect(ours.body.equals(theirs.body)).toBe(true);
          expect(ours.body.equals(Buffer.from(c.body))).toBe(true);
        } finally {
          await server.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The pool's connections, against node:http
// ---------------------------------------------------------------------------------------------

describe("serializeRequest", () => {
  it("writes the request line, host, headers and a Content-Length for a body", () => {
    expect(serializeRequest({ method: "GET", path: "/a?b=1", headers: { accept: "*/*" } }, "example.com:8080")).toBe(
      "GET /a?b=1 HTTP/1.1\r\nhost: example.com:8080\r\naccept: */*\r\n\r\n",
    );
    expect(serializeRequest({ method: "POST", path: "/", headers: {}, body: "héllo" }, "h")).toBe(
      "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 6\r\n\r\nhéllo",
    );
    expect(serializeRequest({ method: "POST", path: "/", headers: {} }, "h")).toBe("POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n");
    expect(serializeRequest({ method: "DELETE", path: "/x", headers: {} }, "h")).toBe("DELETE /x HTTP/1.1\r\nhost: h\r\n\r\n");
  });
});

describe("Http1Pool", () => {
  it("reuses a keep-alive connection for sequential requests and sends host and body", async () => {
    const server = await httpServer((request, response) => request.on("end", () => response.end(`hello ${request.url}`)));
    const pool = newPool(server.url);
    const a = await pool.request({ method: "POST", path: "/a", headers: { "content-type": "text/plain" }, body: "ünïcode" }, bounded());
    expect(a.status).toBe(200);
    expect(a.headers.get("content-length")).toBe("8");
    expect(await a.body.text()).toBe("hello /a");
    const b = await pool.request(get("/b"), bounded());
    expect(await b.body.text()).toBe("hello /b");
    expect(server.requests).toEqual(["POST /a", "GET /b"]);
    expect(server.bodies).toEqual(["ünïcode", ""]);
    expect(server.hostHeaders).toEqual([server.url.host, server.url.host]);
    expect(server.connections).toBe(1);
  });

  it("keeps the connection after an answer to HEAD (no body read)", async () => {
    const server = await httpServer((request, response) => {
      response.setHeader("content-length", "5");
      response.end(request.method === "HEAD" ? undefined : "hello");
    });
    const pool = newPool(server.url);
    const head = await pool.request({ method: "HEAD", path: "/", headers: {} }, bounded());
    expect(head.headers.get("content-length")).toBe("5");
    expect(await head.body.text()).toBe("");
    const body = await pool.request(get("/"), bounded());
    expect(await body.body.text()).toBe("hello");
    expect(server.connections).toBe(1);
  });

  it("opens a new connection after an answer with `connection: close`", async () => {
    const server = await httpServer((request, response) => {
      if (request.url === "/first") response.setHeader("connection", "close");
      response.end(`hi ${request.url}`);
    });
    const pool = newPool(server.url, 1);
    const first = await pool.request(get("/first"), bounded());
    expect(first.headers.get("connection")).toBe("close");
    expect(await first.body.text()).toBe("hi /first");
    const second = await pool.request(get("/second"), bounded());
    expect(await second.body.text()).toBe("hi /second");
    expect(server.connections).toBe(2);
  });

  it("serves a queued request on a new connection when the answer before it said `connection: close`", async () => {
    const server = await httpServer((request, response) => {
      response.setHeader("connection", "close");
      response.end(`hi ${request.url}`);
    });
    const pool = newPool(server.url, 1);
    const [first, second] = await Promise.all([pool.request(get("/first"), bounded()), pool.request(get("/second"), bounded())]);
    expect(await first.body.text()).toBe("hi /first");
    expect(await second.body.text()).toBe("hi /second");
    expect(server.connections).toBe(2);
  });

  it("opens a new connection when the server closed the idle one", async () => {
    const server = await httpServer((request, response) => response.end(`hi ${request.url}`));
    const pool = newPool(server.url, 1);
    expect(await (await pool.request(get("/first"), bounded())).body.text()).toBe("hi /first");
    for (const socket of server.open) socket.end();
    await until(() => server.open.size === 0, "the server to close");
    await delay(20);
    expect(await (await pool.request(get("/second"), bounded())).body.text()).toBe("hi /second");
    expect(server.connections).toBe(2);
  });

  it.each([
    ["that got bytes past the answer's end", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokJUNK"],
    ["past the server's `Keep-Alive: timeout`", "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok"],
  ])("does not reuse a connection %s", async (_case, answer) => {
    const server = await rawServer((socket) => socket.write(answer));
    cleanups.push(() => server.close());
    const pool = newPool(server.url, 1);
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    expect(server.connections).toBe(2);
  });

  it("does not hand a queued request a connection past the server's `Keep-Alive: timeout`", async () => {
    const server = await rawServer((socket) => socket.write("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok"));
    cleanups.push(() => server.close());
    const pool = newPool(server.url, 1);
    const [a, b] = await Promise.all([pool.request(get("/"), bounded()), pool.request(get("/"), bounded())]);
    expect([await a.body.text(), await b.body.text()]).toEqual(["ok", "ok"]);
    expect(server.connections).toBe(2);
  });

  it("reads a body that ends with the connection, then opens a new one", async () => {
    const server = await rawServer((socket) => socket.end("HTTP/1.1 200 OK\r\n\r\nuntil close"));
    cleanups.push(() => server.close());
    const pool = newPool(server.url, 1);
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("until close");
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("until close");
    expect(server.connections).toBe(2);
  });

  it("hands a large body over intact to a slow reader", async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 12)) & 0xff;
    const server = await httpServer((_request, response) => response.end(payload));
    const pool = newPool(server.url);
    const response = await pool.request(get("/"), bounded());
    const chunks: Uint8Array[] = [];
    for (let chunk = await response.body.read(); chunk; chunk = await response.body.read()) {
      chunks.push(chunk);
      if (chunks.length % 4 === 0) await delay(1);
    }
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  });

  it("with `connections: 1` holds a second request until the first answer has ended", async () => {
    let finishSlow: () => void = () => {};
    const server = await httpServer((request, response) => {
      if (request.url !== "/slow") return void response.end("fast");
      response.writeHead(200, { "content-type": "text/plain" });
      response.write("a");
      finishSlow = () => response.end("b");
    });
    const pool = newPool(server.url, 1);
    const slow = await pool.request(get("/slow"), bounded());
    let fastSettled = false;
    const fast = pool.request(get("/fast"), bounded());
    fast.then(
      () => (fastSettled = true),
      () => (fastSettled = true),
    );
    await delay(50);
    expect(server.requests).toEqual(["GET /slow"]);
    expect(fastSettled).toBe(false);
    finishSlow();
    expect(await slow.body.text()).toBe("ab");
    expect(await (await fast).body.text()).toBe("fast");
    expect(server.requests).toEqual(["GET /slow", "GET /fast"]);
    expect(server.connections).toBe(1);
  });

  it("rejects with the signal's reason on abort while waiting for the head, and frees the slot", async () => {
    const server = await httpServer((request, response) => {
      if (request.url !== "/hang") response.end("ok");
    });
    const pool = newPool(server.url, 1);
    const controller = new AbortController();
    const reason = new Error("gave up");
    const pending = pool.request(get("/hang"), controller.signal);
    await until(() => server.requests.length === 1, "the request");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await until(() => server.open.size === 0, "the aborted connection to close");
    expect(await (await pool.request(get("/ok"), bounded())).body.text()).toBe("ok");
    expect(server.connections).toBe(2);
  });

  it("rejects a queued request with its signal's reason, without touching the one in flight", async () => {
    let finish: () => void = () => {};
    const server = await httpServer((request, response) => {
      if (request.url === "/slow") finish = () => response.end("slow");
      else response.end("ok");
    });
    const pool = newPool(server.url, 1);
    const first = pool.request(get("/slow"), bounded());
    await until(() => server.requests.length === 1, "the first request");
    const controller = new AbortController();
    const queued = pool.request(get("/queued"), controller.signal);
    controller.abort("no more waiting");
    await expect(queued).rejects.toBe("no more waiting");
    finish();
    expect(await (await first).body.text()).toBe("slow");
    expect(await (await pool.request(get("/next"), bounded())).body.text()).toBe("ok");
    expect(server.requests).toEqual(["GET /slow", "GET /next"]);
    expect(server.connections).toBe(1);
  });

  it("rejects at once for a signal aborted before the request, keeping the idle connection", async () => {
    const server = await httpServer((_request, response) => response.end("ok"));
    const pool = newPool(server.url, 1);
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    const reason = new Error("already");
    await expect(pool.request(get("/"), AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    expect(server.requests).toHaveLength(2);
    expect(server.connections).toBe(1);
  });

  it("fails the body read with the signal's reason on abort in the middle of the body", async () => {
    const server = await httpServer((_request, response) => {
      response.writeHead(200);
      response.write("part");
    });
    const pool = newPool(server.url, 1);
    const controller = new AbortController();
    const response = await pool.request(get("/"), controller.signal);
    expect(Buffer.from((await response.body.read()) as Uint8Array).toString()).toBe("part");
    const reason = new Error("stop now");
    controller.abort(reason);
    await expect(response.body.read()).rejects.toBe(reason);
    await until(() => server.open.size === 0, "the connection to close");
  });

  it("cancel() in the middle of a body cuts that connection; the pool serves the next request", async () => {
    const server = await httpServer((request, response) => {
      if (request.url !== "/stream") return void response.end("next");
      response.writeHead(200);
      response.write("first");
    });
    const pool = newPool(server.url, 1);
    const response = await pool.request(get("/stream"), bounded());
    expect(Buffer.from((await response.body.read()) as Uint8Array).toString()).toBe("first");
    response.body.cancel();
    await expect(response.body.read()).rejects.toThrow();
    await until(() => server.open.size === 0, "the cancelled connection to close");
    expect(await (await pool.request(get("/after"), bounded())).body.text()).toBe("next");
    expect(server.connections).toBe(2);
  });

  it("close() waits for the request in flight, refuses new ones, then leaves no socket", async () => {
    let finishSlow: () => void = () => {};
    const server = await httpServer((request, response) => {
      if (request.url !== "/slow") return void response.end("idle");
      response.writeHead(200);
      response.write("a");
      finishSlow = () => response.end("b");
    });
    const before = tcpSockets();
    const pool = newPool(server.url);
    // One idle connection besides the busy one.
    expect(await (await pool.request(get("/idle"), bounded())).body.text()).toBe("idle");
    const slow = await pool.request(get("/slow"), bounded());
    expect(server.open.size).toBe(1);
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    await delay(30);
    expect(closed).toBe(false);
    await expect(pool.request(get("/idle"), bounded())).rejects.toThrow(/closed/);
    finishSlow();
    expect(await slow.body.text()).toBe("ab");
    await closing;
    await until(() => server.open.size === 0, "the server to see every connection close");
    await delay(20);
    expect(tcpSockets()).toBeLessThanOrEqual(before);
  });

  it("close() still serves a request queued before it, then resolves", async () => {
    let finish: () => void = () => {};
    const server = await httpServer((request, response) => {
      if (request.url === "/slow") finish = () => response.end("slow");
      else response.end("queued");
    });
    const pool = newPool(server.url, 1);
    const first = pool.request(get("/slow"), bounded());
    await until(() => server.requests.length === 1, "the first request");
    const queued = pool.request(get("/queued"), new AbortController().signal);
    const closing = pool.close();
    finish();
    expect(await (await first).body.text()).toBe("slow");
    expect(await (await queued).body.text()).toBe("queued");
    await closing;
    expect(server.requests).toEqual(["GET /slow", "GET /queued"]);
    await until(() => server.open.size === 0, "the connection to close");
  });

  it("close() called twice: both calls resolve once the request in flight has ended", async () => {
    let finish: () => void = () => {};
    const server = await httpServer((_request, response) => {
      response.writeHead(200);
      finish = () => response.end("done");
    });
    const pool = newPool(server.url);
    const response = pool.request(get("/"), bounded());
    await until(() => server.requests.length === 1, "the request");
    const settled: string[] = [];
    const first = pool.close().then(() => settled.push("first"));
    const second = pool.close().then(() => settled.push("second"));
    await delay(20);
    expect(settled).toEqual([]);
    finish();
    expect(await (await response).body.text()).toBe("done");
    await Promise.all([first, second]);
    expect(settled.sort()).toEqual(["first", "second"]);
  });

  it("close() waits for every request in flight, not only the first to end", async () => {
    const finishers = new Map<string, () => void>();
    const server = await httpServer((request, response) => {
      response.writeHead(200);
      response.write("a");
      finishers.set(request.url ?? "", () => response.end("b"));
    });
    const pool = newPool(server.url);
    const [one, two] = await Promise.all([pool.request(get("/one"), bounded()), pool.request(get("/two"), bounded())]);
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    finishers.get("/one")?.();
    expect(await one.body.text()).toBe("ab");
    await delay(30);
    expect(closed).toBe(false);
    finishers.get("/two")?.();
    expect(await two.body.text()).toBe("ab");
    await closing;
    await until(() => server.open.size === 0, "the server to see every connection close");
  });

  it("close() with only idle connections closes them", async () => {
    const server = await httpServer((_request, response) => response.end("ok"));
    const pool = newPool(server.url);
    const [a, b] = await Promise.all([pool.request(get("/"), bounded()), pool.request(get("/"), bounded())]);
    expect([await a?.body.text(), await b?.body.text()]).toEqual(["ok", "ok"]);
    expect(server.connections).toBe(2);
    await pool.close();
    await until(() => server.open.size === 0, "the server to see the idle connections close");
  });

  it("destroy() makes an in-flight body read and a queued request reject", async () => {
    const server = await httpServer((_request, response) => {
      response.writeHead(200);
      response.write("a");
    });
    const pool = newPool(server.url, 1);
    const response = await pool.request(get("/"), bounded());
    expect(Buffer.from((await response.body.read()) as Uint8Array).toString()).toBe("a");
    const reading = response.body.read();
    const queued = pool.request(get("/queued"), bounded());
    await pool.destroy();
    await expect(reading).rejects.toThrow("the connection pool was destroyed");
    await expect(queued).rejects.toThrow("the connection pool was destroyed");
    await expect(pool.request(get("/"), bounded())).rejects.toThrow(/closed/);
    await until(() => server.open.size === 0, "the connection to close");
  });

  it("rejects with the signal's own reason, even a string, when aborted while connecting", async () => {
    const server = await httpServer((_request, response) => response.end("ok"));
    const pool = newPool(server.url);
    await expect(pool.request(get("/"), AbortSignal.abort("str-reason"))).rejects.toBe("str-reason");
    const controller = new AbortController();
    const pending = pool.request(get("/"), controller.signal);
    controller.abort("while connecting");
    await expect(pending).rejects.toBe("while connecting");
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    await pool.close();
  });

  it("rejects with ECONNREFUSED when nothing listens", async () => {
    const pool = newPool(new URL(`http://127.0.0.1:${await closedPort()}`));
    await expect(pool.request(get("/"), bounded())).rejects.toMatchObject({ code: "ECONNREFUSED" });
    // The failed connect freed its slot: close() has nothing to wait for.
    await pool.close();
  });

  it("fails the request when the server closes without answering", async () => {
    const server = await rawServer((socket) => socket.end());
    cleanups.push(() => server.close());
    const pool = newPool(server.url, 1);
    await expect(pool.request(get("/"), bounded())).rejects.toThrow(/without answering/);
    await expect(pool.request(get("/"), bounded())).rejects.toThrow(/without answering/);
    expect(server.connections).toBe(2);
  });

  it("fails the body read when the server closes in the middle of a Content-Length body", async () => {
    const server = await rawServer((socket) => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"));
    cleanups.push(() => server.close());
    const pool = newPool(server.url, 1);
    const response = await pool.request(get("/"), bounded());
    await expect(readAll(response.body)).rejects.toThrow(/in the middle/);
  });
});

describe("Http1Pool: kept-alive connections that went stale", () => {
  /** A server that answers the first request of each connection, then closes it when the second arrives, unanswered. */
  async function closesOnSecondRequest(): Promise<Listening & { heads: string[] }> {
    const heads: string[] = [];
    const counts = new WeakMap<Socket, number>();
    const server = await rawServer((socket, head) => {
      heads.push(head.split("\r\n")[0] as string);
      const count = (counts.get(socket) ?? 0) + 1;
      counts.set(socket, count);
      if (count === 1) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      else socket.destroy();
    });
    cleanups.push(() => server.close());
    return Object.assign(server, { heads });
  }

  it("sends a request once more, on a new connection, when the reused one closes before any byte of the answer", async () => {
    const server = await closesOnSecondRequest();
    const pool = newPool(server.url, 1);
    expect(await (await pool.request(get("/first"), bounded())).body.text()).toBe("ok");
    const post = { method: "POST", path: "/second", headers: {}, body: "{}" };
    expect(await (await pool.request(post, bounded())).body.text()).toBe("ok");
    expect(server.heads).toEqual(["GET /first HTTP/1.1", "POST /second HTTP/1.1", "POST /second HTTP/1.1"]);
    expect(server.connections).toBe(2);
  });

  it("does not send again when the connection was new", async () => {
    const server = await rawServer((socket) => socket.destroy());
    cleanups.push(() => server.close());
    const pool = newPool(server.url, 1);
    await expect(pool.request(get("/"), bounded())).rejects.toThrow();
    expect(server.connections).toBe(1);
  });

  it("does not send again once a byte of the answer came", async () => {
    let count = 0;
    const server = await rawServer((socket) => {
      count++;
      if (count === 1) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      else socket.end("HTTP/1.1 200");
    });
    cleanups.push(() => server.close());
    const pool = newPool(server.url, 1);
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    await expect(pool.request(get("/"), bounded())).rejects.toThrow(/closed the connection in the middle/);
    expect(count).toBe(2);
    expect(server.connections).toBe(1);
  });

  it("does not send again when the caller aborted", async () => {
    const server = await closesOnSecondRequest();
    const pool = newPool(server.url, 1);
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    const controller = new AbortController();
    const pending = pool.request(get("/"), controller.signal);
    controller.abort("stop");
    await expect(pending).rejects.toBe("stop");
    await delay(20);
    expect(server.connections).toBe(1);
  });
});

describe("Http1Pool: idle connections", () => {
  it("closes a connection that stayed idle for the idle timeout, and opens a new one after", async () => {
    const server = await httpServer((_request, response) => response.end("ok"));
    const pool = new Http1Pool(server.url, { connectTimeout: 5000, idleTimeout: 100 });
    cleanups.push(() => pool.destroy());
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    expect(server.open.size).toBe(1);
    await until(() => server.open.size === 0, "the idle connection to close");
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    expect(server.connections).toBe(2);
  });

  it("keeps a connection open while a slow answer outlasts the idle timeout", async () => {
    const server = await httpServer((request, response) => {
      if (request.url === "/slow") setTimeout(() => response.end("slow"), 250);
      else response.end("ok");
    });
    const pool = new Http1Pool(server.url, { connectTimeout: 5000, idleTimeout: 100 });
    cleanups.push(() => pool.destroy());
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    expect(await (await pool.request(get("/slow"), bounded())).body.text()).toBe("slow");
    expect(server.connections).toBe(1);
  });

  it("closeIdle() closes idle connections and leaves the busy ones", async () => {
    const finish: Array<() => void> = [];
    const server = await httpServer((request, response) => {
      if (request.url !== "/hold") return void response.end("ok");
      response.writeHead(200);
      response.write("he");
      finish.push(() => response.end("ld"));
    });
    const pool = newPool(server.url);
    const [held, quick] = await Promise.all([pool.request(get("/hold"), bounded()), pool.request(get("/"), bounded())]);
    expect(await quick.body.text()).toBe("ok");
    pool.closeIdle();
    await until(() => server.open.size === 1, "the idle connection to close");
    finish.forEach((end) => end());
    expect(await held.body.text()).toBe("held");
    expect(await (await pool.request(get("/"), bounded())).body.text()).toBe("ok");
    expect(server.connections).toBe(2);
  });
});
