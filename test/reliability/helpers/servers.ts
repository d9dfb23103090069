/**
 * Small servers for the reliability tests, all on loopback: a port nobody listens on,
 * a recorder of HTTP requests, a TCP tap that records every byte a client sends
 * through it, and TLS pieces (a throwaway self-signed certificate, a TLS front for the
 * emulator, an https server that redirects).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { listenLocal } from "../../helpers/local-server.js";

export interface Closable {
  close(): Promise<void>;
}

export { closedPort } from "../../helpers/closed-port.js";

export interface RecordedHit {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
}

/** An HTTP server that records every request and answers `{}`: the place a redirect must not reach. */
export async function startRecorder(host = "127.0.0.1"): Promise<Closable & { url: string; hits: RecordedHit[] }> {
  const hits: RecordedHit[] = [];
  const server = createHttpServer((req, res) => {
    hits.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  const { url, close } = await listenLocal(server, { host });
  return { url, hits, close };
}

/**
 * A TCP relay to `target` that records every byte clients send through it. Put in
 * front of a proxy, it sees what the proxy sees: the handshake and the tunnel's bytes.
 */
export async function startTap(target: { host: string; port: number }): Promise<Closable & { port: number; bytes(): Buffer }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    client.on("data", (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    client.pipe(upstream);
    upstream.pipe(client);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", cut);
    upstream.on("error", cut);
    client.on("close", cut);
    upstream.on("close", cut);
  });
  const { port, close } = await listenLocal(server, { sockets });
  return { port, bytes: () => Buffer.concat(chunks), close };
}

export interface TestCertificate {
  key: string;
  cert: string;
  /** The certificate's file (for NODE_EXTRA_CA_CERTS). */
  certPath: string;
  remove(): void;
}

/** True when the `openssl` command is available to make a throwaway certificate. */
export function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for `localhost` and 127.0.0.1, valid one day, made with openssl in a temporary folder. */
export function makeCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "oasst-tls-"));
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  return {
    key: readFileSync(keyPath, "utf8"),
    cert: readFileSync(certPath, "utf8"),
    certPath,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** TLS in front of a plain HTTP server: `https://localhost:PORT` reaches `target` (the emulator). */
export async function startTlsFront(target: string, certificate: TestCertificate): Promise<Closable & { url: string; port: number }> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key: certificate.key, cert: certificate.cert }, (secure) => {
    const upstream = connect(Number(targetPort), hostname);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    secure.pipe(upstream);
    upstream.pipe(secure);
    const cut = () => {
      secure.destroy();
      upstream.destroy();
    };
    secure.on("error", cut);
    upstream.on("error", cut);
    secure.on("close", cut);
    upstream.on("close", cut);
  });
  const { port, close } = await listenLocal(server, { sockets });
  return { url: `https://localhost:${port}`, port, close };
}

/** An https server whose every answer is a 302 to `location`; it records the requests it got. */
export async function startHttpsRedirect(certificate: TestCertificate, location: string): Promise<Closable & { url: string; hits: RecordedHit[] }> {
  const hits: RecordedHit[] = [];
  const server = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    hits.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    res.writeHead(302, { location: new URL(req.url ?? "/", location).toString(), "content-length": "0" }).end();
  });
  const { port, close } = await listenLocal(server);
  return { url: `https://localhost:${port}`, hits, close };
}
