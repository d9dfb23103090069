/**
 * Secure cookies never travel over plain http (issue 17, item 1). Every source carries
 * the Secure flag (cookies.txt, JSON export, HAR, Firefox, Chromium), `__Secure-` and
 * `__Host-` names are Secure wherever they come from (given cookies too), and a session
 * cookie that an http:// base URL would carry in clear is a ConfigError before anything
 * is sent. https and loopback hosts get every cookie, as browsers give them.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { OpenAssistantClient } from "../../src/client/client.js";
import type { FetchLike } from "../../src/client/http-transport.js";
import { findCookies, getCookies } from "../../src/cookies/index.js";
import { isSecureContext } from "../../src/cookies/secure-cookies.js";
import { ConfigError } from "../../src/errors.js";
import { OpenAssistant } from "../../src/index.js";
import { FAR_FUTURE_S, FIXTURES, isolated, SESSION, tempDir, writeProfilesIni, writeSqlite } from "./helpers.js";

const PLAIN_SESSION = "next-auth.session-token";
const HTTP_SITE = "http://open-assistant.io";
const HTTPS_SITE = "https://open-assistant.io";
const fixture = (name: string) => join(FIXTURES, "files", name);
const filesOnly = (cookiesFile: string) => ({ ...isolated(tempDir()), source: "files" as const, cookiesFile });

/** A cookies.txt for open-assistant.io: [name, value, secure] per line. */
function cookiesTxt(rows: Array<[string, string, boolean]>): string {
  const path = join(tempDir(), "cookies.txt");
  const lines = rows.map(([name, value, secure]) => `open-assistant.io\tFALSE\t/\t${secure ? "TRUE" : "FALSE"}\t${FAR_FUTURE_S}\t${name}\t${value}`);
  writeFileSync(path, `# Netscape HTTP Cookie File\n${lines.join("\n")}\n`);
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("where Secure cookies may go", () => {
  it("https and loopback hosts (localhost, *.localhost, 127.0.0.0/8, ::1, IPv4-mapped 127.x) are secure contexts; plain http elsewhere is not", () => {
    const secure = [
      "https://open-assistant.io",
      "http://localhost:3000",
      "http://chat.localhost",
      "http://127.0.0.1:8080",
      "http://127.1.2.3",
      "http://0x7f.1",
      "http://[::1]:80",
      "http://[0:0:0:0:0:0:0:1]",
      // 127.0.0.1 as an IPv4-mapped IPv6 address: the traffic stays on this machine too.
      "http://[::ffff:7f00:1]",
    ];
    const insecure = [
      "http://open-assistant.io",
      "http://localhost.evil.example",
      "http://127.0.0.1.nip.io",
      "http://10.0.0.1",
      "http://[::ffff:a00:1]",
      "http://[::2]",
    ];
    expect(secure.filter((url) => !isSecureContext(new URL(url)))).toEqual([]);
    expect(insecure.filter((url) => isSecureContext(new URL(url)))).toEqual([]);
  });
});

describe("getCookies for an http:// site: the sources' Secure flag", () => {
  it("cookies.txt: a Secure session cookie is a ConfigError naming the file, the cookie, the URL and the https:// fix", async () => {
    const error = await rejection(getCookies(HTTP_SITE, filesOnly(fixture("cookies.txt"))));
    expect(error.summary).toBe(
      `The session cookie ${SESSION} from cookies file ${fixture("cookies.txt")} is marked Secure, and the base URL http://open-assistant.io/ is plain http: ` +
        "the cookie would travel unencrypted, so nothing was sent",
    );
    expect(error.hint).toBe(
      "Use the https:// base URL (the baseUrl option or OASST_BASE_URL): https://open-assistant.io/. Browsers send Secure cookies only over https (or to localhost).",
    );
    expect(error.message).not.toContain("netscape-session-value");
    // The same file over https, or given as a bare host (taken as https), gives every cookie.
    expect(Object.keys(await getCookies(HTTPS_SITE, filesOnly(fixture("cookies.txt"))))).toEqual([SESSION, "netscape-domain-cookie", "netscape-session-only"]);
    expect(Object.keys(await getCookies("open-assistant.io", filesOnly(fixture("cookies.txt"))))).toContain(SESSION);
  });

  it("cookies.txt: the flag decides for names without a prefix; a plain session cookie goes, a Secure other cookie stays behind", async () => {
    const file = cookiesTxt([
      [PLAIN_SESSION, "plain-session", false],
      ["cf_clearance", "secure-only", true],
    ]);
    expect(await getCookies(HTTP_SITE, filesOnly(file))).toEqual({ [PLAIN_SESSION]: "plain-session" });
    expect(await getCookies(HTTPS_SITE, filesOnly(file))).toEqual({ [PLAIN_SESSION]: "plain-session", cf_clearance: "secure-only" });
    const report = await findCookies(HTTP_SITE, filesOnly(file));
    expect(report.searched[0]?.result).toBe(
      `1 cookie for open-assistant.io: ${PLAIN_SESSION} (Netscape cookies.txt; cf_clearance left out: Secure, and http://open-assistant.io/ is plain http)`,
    );

    const flagged = cookiesTxt([[PLAIN_SESSION, "flagged-session", true]]);
    expect((await rejection(getCookies(HTTP_SITE, filesOnly(flagged)))).summary).toContain(
      `The session cookie ${PLAIN_SESSION} from cookies file ${flagged} is marked Secure`,
    );
  });

  it("JSON exports: Cookie-Editor's `secure`, and Playwright's (its plain session cookie is not Secure)", async () => {
    expect(await rejection(getCookies(HTTP_SITE, filesOnly(fixture("cookie-editor.json"))))).toBeInstanceOf(ConfigError);
    expect(await getCookies(HTTP_SITE, filesOnly(fixture("storage-state.json")))).toEqual({ [PLAIN_SESSION]: "playwright-session-value" });
    expect(Object.keys(await getCookies(HTTPS_SITE, filesOnly(fixture("storage-state.json"))))).toEqual([PLAIN_SESSION, "playwright-session-only"]);
  });

  it("HAR: the request cookies' `secure`, and the __Secure- prefix when the flag is missing", async () => {
    const har = join(tempDir(), "session.har");
    const entry = (cookies: object[]) => ({ request: { url: "http://open-assistant.io/api/chat", cookies, headers: [] } });
    writeFileSync(
      har,
      JSON.stringify({
        log: {
          entries: [
            entry([
              { name: PLAIN_SESSION, value: "har-session", secure: false },
              { name: "har-secure", value: "s", secure: true },
            ]),
          ],
        },
      }),
    );
    expect(await getCookies(HTTP_SITE, filesOnly(har))).toEqual({ [PLAIN_SESSION]: "har-session" });
    // The fixture's session cookie carries no flag: its __Secure- name makes it Secure.
    const error = await rejection(getCookies(HTTP_SITE, filesOnly(fixture("session.har"))));
    expect(error.summary).toContain(`${SESSION} from cookies file ${fixture("session.har")} is Secure (its name starts with __Secure-)`);
  });

  it("Firefox: moz_cookies.isSecure; a session cookie left out in one place is taken from a later place that has a plain one", async () => {
    const home = tempDir();
    const root = join(home, ".mozilla", "firefox");
    writeProfilesIni(root, [{ name: "default-release", path: "abcd.default-release", isDefault: true }]);
    const writeProfile = (rows: Array<[string, string, number]>) =>
      writeSqlite(join(root, "abcd.default-release", "cookies.sqlite"), [
        ["PRAGMA user_version = 17"],
        [
          "CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, originAttributes TEXT NOT NULL DEFAULT '', name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER, isSecure INTEGER)",
        ],
        ...rows.map(([name, value, secure]): [string, Array<string | number>] => [
          "INSERT INTO moz_cookies (name, value, host, path, expiry, isSecure) VALUES (?, ?, 'open-assistant.io', '/', ?, ?)",
          [name, value, FAR_FUTURE_S * 1000, secure],
        ]),
      ]);
    await writeProfile([
      [PLAIN_SESSION, "firefox-secure-session", 1],
      ["firefox-plain", "p", 0],
    ]);
    const options = { ...isolated(home), browser: "firefox" as const };
    const error = await rejection(getCookies(HTTP_SITE, options));
    expect(error.summary).toContain(`The session cookie ${PLAIN_SESSION} from Firefox profile default-release is marked Secure`);
    expect(await getCookies(HTTPS_SITE, options)).toEqual({ [PLAIN_SESSION]: "firefox-secure-session", "firefox-plain": "p" });

    await writeProfile([[PLAIN_SESSION, "firefox-plain-session", 0]]);
    // The cookies file is read first; its Secure session cookie stays behind, the profile's plain one is used.
    const withFile = { ...isolated(home), cookiesFile: cookiesTxt([[PLAIN_SESSION, "file-secure-session", true]]) };
    expect(await getCookies(HTTP_SITE, withFile)).toEqual({ [PLAIN_SESSION]: "firefox-plain-session" });
  });

  it("Chromium: cookies.is_secure", async () => {
    const profile = join(tempDir(), "Default");
    const rows: Array<[string, string, number]> = [
      [PLAIN_SESSION, "chromium-secure-session", 1],
      ["chromium-plain", "p", 0],
    ];
    await writeSqlite(join(profile, "Cookies"), [
      ["CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR)"],
      ["INSERT INTO meta VALUES ('version', '24')"],
      [
        "CREATE TABLE cookies(creation_utc INTEGER NOT NULL, host_key TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, encrypted_value BLOB NOT NULL, path TEXT NOT NULL, expires_utc INTEGER NOT NULL, is_secure INTEGER NOT NULL)",
      ],
      ...rows.map(([name, value, secure]): [string, Array<string | number | Uint8Array>] => [
        "INSERT INTO cookies VALUES (0, 'open-assistant.io', ?, ?, ?, '/', 0, ?)",
        [name, value, new Uint8Array(0), secure],
      ]),
    ]);
    const options = { ...isolated(tempDir()), profile };
    expect((await rejection(getCookies(HTTP_SITE, options))).summary).toContain(
      `The session cookie ${PLAIN_SESSION} from Chromium profile Default is marked Secure`,
    );
    expect(await getCookies(HTTPS_SITE, options)).toEqual({ [PLAIN_SESSION]: "chromium-secure-session", "chromium-plain": "p" });
  });

  it("a loopback http:// site gets Secure cookies, as browsers give them to localhost", async () => {
    const file = join(tempDir(), "cookies.txt");
    writeFileSync(file, `127.0.0.1\tFALSE\t/\tTRUE\t${FAR_FUTURE_S}\t${SESSION}\tlocal\nlocalhost\tFALSE\t/\tTRUE\t${FAR_FUTURE_S}\t${SESSION}\tlocal\n`);
    expect(await getCookies("http://127.0.0.1:8080/", filesOnly(file))).toEqual({ [SESSION]: "local" });
    expect(await getCookies("http://localhost:8080/", filesOnly(file))).toEqual({ [SESSION]: "local" });
  });
});

describe("cookies given by name: the __Secure- and __Host- prefixes decide", () => {
  it("getCookies: the cookies option and OASST_COOKIES, which close the search even when nothing of them may be sent", async () => {
    const home = tempDir();
    const given = await rejection(getCookies(HTTP_SITE, { ...isolated(home), cookies: `${SESSION}=given` }));
    expect(given.summary).toContain(`The session cookie ${SESSION} from cookies option is Secure (its name starts with __Secure-)`);
    const env = { OASST_COOKIES: `${SESSION}=from-env; __Host-csrf=c` };
    // Without closing, the search would go on to the plain session cookie of this cookies folder.
    const dir = dirname(cookiesTxt([[PLAIN_SESSION, "file", false]]));
    expect(await getCookies(HTTP_SITE, { ...isolated(home), cookiesDir: dir })).toEqual({ [PLAIN_SESSION]: "file" });
    const fromEnv = await rejection(getCookies(HTTP_SITE, { ...isolated(home, "linux", env), cookiesDir: dir }));
    expect(fromEnv.summary).toContain(`The session cookie ${SESSION} from OASST_COOKIES is Secure`);
    expect(await getCookies(HTTP_SITE, { ...isolated(home), cookies: `${PLAIN_SESSION}=plain; __Host-csrf=c; __secure-lower=l` })).toEqual({
      [PLAIN_SESSION]: "plain",
    });
  });

  /** A fetch that records the Cookie header of every request and answers a new chat. */
  function recordingFetch(): { fetch: FetchLike; cookies: Array<string | null> } {
    const cookies: Array<string | null> = [];
    const fetch: FetchLike = async (_url, init) => {
      cookies.push(new Headers(init.headers).get("cookie"));
      return new Response(JSON.stringify({ id: "chat-1" }), { status: 200, headers: { "content-type": "application/json" } });
    };
    return { fetch, cookies };
  }

  it("the client: over plain http it leaves them out, and refuses before any request when that leaves no session cookie", async () => {
    for (const cookies of [`${SESSION}=s; other=1`, { [SESSION]: "s" }, `__Secure-next-auth.session-token.0=a; __Secure-next-auth.session-token.1=b`]) {
      const { fetch, cookies: sent } = recordingFetch();
      const error = (() => {
        try {
          new OpenAssistantClient({ baseUrl: "http://open-assistant.test", cookies, fetch });
        } catch (e) {
          return e;
        }
      })() as ConfigError;
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.summary).toMatch(
        /^The session cookie __Secure-next-auth\.session-token(\.0)? is Secure \(its name starts with __Secure-\), and the base URL http:\/\/open-assistant\.test\/ is plain http/,
      );
      expect(error.hint).toContain("https://open-assistant.test/");
      expect(sent).toEqual([]);
    }

    const { fetch, cookies: sent } = recordingFetch();
    const header = `${PLAIN_SESSION}=s; __Host-csrf=c; __SECURE-x=y; other=1`;
    await new OpenAssistantClient({ baseUrl: "http://open-assistant.test", cookies: header, fetch }).createChat();
    await new OpenAssistantClient({ baseUrl: "https://open-assistant.test", cookies: header, fetch }).createChat();
    await new OpenAssistantClient({ baseUrl: "http://localhost:3000", cookies: header, fetch }).createChat();
    expect(sent).toEqual([`${PLAIN_SESSION}=s; other=1`, header, header]);
  });

  it("the provider: given cookies, and a source's Secure flag (it asks the sources with the URL, not the host alone)", async () => {
    const messages = [{ role: "user" as const, content: "Hi" }];
    // The sources go on to the browsers after the file: those of an empty home.
    const home = process.env.HOME;
    process.env.HOME = tempDir();
    try {
      const flagged = cookiesTxt([[PLAIN_SESSION, "flagged-session", true]]);
      for (const [options, from] of [
        [{ cookies: `${SESSION}=s` }, `${SESSION} is Secure (its name starts with __Secure-)`],
        [{ cookiesFile: flagged, cookiesDir: tempDir() }, `${PLAIN_SESSION} from cookies file ${flagged} is marked Secure`],
      ] as const) {
        const { fetch, cookies: sent } = recordingFetch();
        const error = await rejection(OpenAssistant.createAsync("model", messages, { ...options, baseUrl: HTTP_SITE, env: {}, fetch }));
        expect(error.summary).toContain(`The session cookie ${from}, and the base URL http://open-assistant.io/ is plain http`);
        expect(sent).toEqual([]);
      }
    } finally {
      process.env.HOME = home;
    }
  });
});
