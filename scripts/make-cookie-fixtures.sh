#!/usr/bin/env bash
# Regenerates the real-browser cookie fixtures of test/fixtures/cookies/:
#
#   chromium/Default/Cookies     written by Debian's chromium, headless without a keyring (v10 values)
#   firefox/profiles.ini         a profiles.ini naming the profile below
#   firefox/default-release/cookies.sqlite
#                                written by Debian's firefox-esr, closed cleanly
#   firefox-running/…            the same database copied while Firefox still runs: the rows are
#                                still in cookies.sqlite-wal (gzipped, the WAL holds 32 KiB pages)
#   browsers.txt                 the browser versions the files came from, and when they were made
#
# Each browser, in a fresh empty profile, opens https://open-assistant.io/ served by a tiny
# Node server on 127.0.0.1 with a throwaway certificate. The page sets the NextAuth session
# cookie (host-only, HttpOnly, Secure), a domain cookie with a far expiry, and loads an image
# from chat.open-assistant.io that sets a host-only cookie there.
#
# Installs nothing. Needs: node, and `apt-get install -y chromium firefox-esr openssl sqlite3`.
# Run as root (the browsers get --no-sandbox) from anywhere: bash scripts/make-cookie-fixtures.sh
set -euo pipefail

for tool in node chromium firefox-esr openssl sqlite3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y chromium firefox-esr openssl sqlite3" >&2; exit 1; }
done

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$repo/test/fixtures/cookies"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The fake session value: never a real token.
session_token="fixture-session-token.eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..oasst-fixture"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=open-assistant.io" \
  -addext "subjectAltName=DNS:open-assistant.io,DNS:chat.open-assistant.io" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
fingerprint="$(openssl x509 -in "$work/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)"

cat >"$work/server.mjs" <<'EOF'
import { createServer } from "node:https";
import { appendFileSync, readFileSync } from "node:fs";

const [certFile, keyFile, sessionToken, pixelLog] = process.argv.slice(2);
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  const host = req.headers.host ?? "";
  const port = host.includes(":") ? host.slice(host.indexOf(":")) : "";
  const thirtyDays = new Date(Date.now() + 30 * 24 * 3600 * 1000).toUTCString();
  if (host.startsWith("chat.open-assistant.io")) {
    res.setHeader("Set-Cookie", "chat-host-only=chat-value; Path=/; Secure; SameSite=Lax; Max-Age=86400");
    appendFileSync(pixelLog, "pixel\n");
    res.setHeader("Content-Type", "image/svg+xml");
    res.end('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>');
    return;
  }
  if (req.url === "/favicon.ico") {
    res.statusCode = 404;
    res.end();
    return;
  }
  res.setHeader("Set-Cookie", [
    `__Secure-next-auth.session-token=${sessionToken}; Path=/; Expires=${thirtyDays}; HttpOnly; Secure; SameSite=Lax`,
    "oasst-fixture-pref=far-expiry; Domain=open-assistant.io; Path=/; Max-Age=34000000; Secure; SameSite=Lax",
  ]);
  res.setHeader("Content-Type", "text/html");
  // The image sets the chat.* cookie; then, with ?close, the window closes, which ends headless Firefox cleanly.
  const close = req.url?.includes("close") ? "setTimeout(()=>window.close(),1500);" : "";
  res.end(`<!doctype html><title>fixture</title><p id="state">loading</p>
<img src="https://chat.open-assistant.io${port}/pixel.svg" onload="done()" onerror="done()">
<script>function done(){document.getElementById("state").textContent="done";${close}}</script>`);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
EOF

node "$work/server.mjs" "$work/cert.pem" "$work/key.pem" "$session_token" "$work/pixels" >"$work/port" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port="$(cat "$work/port")"

# The tests pin their clock to this moment: the cookies expire (the session after 30 days, as NextAuth sets it).
made="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# --- Chromium: --dump-dom waits for the load event (the image included), then quits and flushes the cookie store.
chromium_dir="$work/chromium"
mkdir -p "$chromium_dir"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --password-store=basic --user-data-dir="$chromium_dir" \
  --host-resolver-rules="MAP open-assistant.io 127.0.0.1:$port, MAP chat.open-assistant.io 127.0.0.1:$port" \
  --ignore-certificate-errors --dump-dom https://open-assistant.io/ >"$work/chromium.html" 2>"$work/chromium.log"
grep -q '>done<' "$work/chromium.html" || { echo "chromium did not load the page; see its log:" >&2; cat "$work/chromium.log" >&2; exit 1; }
chromium_cookies="$chromium_dir/Default/Cookies"
[ -f "$chromium_cookies" ] || chromium_cookies="$chromium_dir/Default/Network/Cookies"

# --- Firefox: a fresh profile that resolves both hosts to this machine and trusts the certificate.
firefox_profile="$work/firefox/default-release"
mkdir -p "$firefox_profile"
cat >"$firefox_profile/user.js" <<EOF
user_pref("network.dns.localDomains", "open-assistant.io,chat.open-assistant.io");
user_pref("network.trr.mode", 5);
user_pref("network.proxy.type", 0);
user_pref("dom.allow_scripts_to_close_windows", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("app.update.enabled", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
EOF
printf '# PSM Certificate Override Settings file\n# This is a generated file!  Do not edit.\n' >"$firefox_profile/cert_override.txt"
for host in open-assistant.io chat.open-assistant.io; do
  printf '%s:%s:\tOID.2.16.840.1.101.3.4.2.1\t%s\t\n' "$host" "$port" "$fingerprint" >>"$firefox_profile/cert_override.txt"
done

run_firefox() { # profile dir, then: wait for exit (yes) or copy the database while it runs (no)
  local profile="$1" wait_for_exit="$2" pid query=""
  [ "$wait_for_exit" = yes ] && query="?close"
  : >"$work/pixels"
  HOME="$work/home" MOZ_HEADLESS=1 firefox-esr --headless --no-remote --profile "$profile" \
    "https://open-assistant.io:$port/$query" >"$work/firefox.log" 2>&1 &
  pid=$!
  if [ "$wait_for_exit" = yes ]; then
    for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; echo "firefox did not close its window; log:" >&2; cat "$work/firefox.log" >&2; exit 1; fi
    wait "$pid" || true
  else
    for _ in $(seq 600); do [ -s "$work/pixels" ] && break; sleep 0.1; done
    [ -s "$work/pixels" ] || { echo "firefox did not load the page; log:" >&2; cat "$work/firefox.log" >&2; exit 1; }
    sleep 3 # the cookie service writes on its own thread
    mkdir -p "$work/running"
    cp "$profile/cookies.sqlite-wal" "$work/running/cookies.sqlite-wal"
    cp "$profile/cookies.sqlite" "$work/running/cookies.sqlite"
    kill "$pid" 2>/dev/null || true
    wait "$pid" || true
  fi
}
mkdir -p "$work/home"
run_firefox "$firefox_profile" yes
firefox_version="$(HOME="$work/home" firefox-esr --version 2>/dev/null)"

cp -r "$firefox_profile" "$work/firefox-second"
rm -f "$work/firefox-second/cookies.sqlite"*
run_firefox "$work/firefox-second" no

# --- Shrink and copy. VACUUM keeps every row, the schema and user_version; smaller pages keep the files small.
shrink() { sqlite3 "$1" "PRAGMA journal_mode=DELETE; PRAGMA page_size=1024; VACUUM;" >/dev/null; }
rm -rf "$out/chromium" "$out/firefox" "$out/firefox-running"
mkdir -p "$out/chromium/Default" "$out/firefox/default-release" "$out/firefox-running/default-release"
cp "$chromium_cookies" "$out/chromium/Default/Cookies"
shrink "$out/chromium/Default/Cookies"
cp "$firefox_profile/cookies.sqlite" "$out/firefox/default-release/cookies.sqlite"
shrink "$out/firefox/default-release/cookies.sqlite"
cat >"$out/firefox/profiles.ini" <<'EOF'
[Profile0]
Name=default-release
IsRelative=1
Path=default-release
Default=1

[General]
StartWithLastProfile=1
Version=2
EOF
cp "$out/firefox/profiles.ini" "$out/firefox-running/profiles.ini"
gzip -9 -n -c "$work/running/cookies.sqlite" >"$out/firefox-running/default-release/cookies.sqlite.gz"
gzip -9 -n -c "$work/running/cookies.sqlite-wal" >"$out/firefox-running/default-release/cookies.sqlite-wal.gz"

{
  echo "chromium: $(chromium --version 2>/dev/null)"
  echo "chromium cookie database meta version: $(sqlite3 "$out/chromium/Default/Cookies" "select value from meta where key='version'")"
  echo "firefox: $firefox_version"
  echo "firefox cookie database user_version: $(sqlite3 "$out/firefox/default-release/cookies.sqlite" "PRAGMA user_version")"
  echo "made: $made"
} >"$out/browsers.txt"
cat "$out/browsers.txt"
ls -l "$out"/chromium/Default "$out"/firefox/default-release "$out"/firefox-running/default-release
