/**
 * Minimal proxies for tests, on 127.0.0.1: an HTTP CONNECT proxy and a SOCKS5
 * server (RFC 1928, with RFC 1929 user/password). They record what clients asked
 * for, so tests can check credentials, tunnelling and where DNS happened.
 */
import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";

export interface ProxyLog {
  /** `host:port` targets asked for. */
  targets: string[];
  /** Proxy-Authorization headers, or `user:password` for SOCKS. */
  credentials: Array<string | undefined>;
  /** Everything clients sent to the proxy before the tunnel was set up. */
  handshakes: string[];
}

export interface TestProxy {
  url: string;
  log: ProxyLog;
  close(): Promise<void>;
}

async function listen(server: Server, sockets: Set<Socket>): Promise<{ port: number; close(): Promise<void> }> {
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
  a.on("close", () => b.destroy());
  b.on("close", () => a.destroy());
}

/** An HTTP proxy that only tunnels (CONNECT), as undici uses proxies. `auth`: required `user:password`. */
export async function startConnectProxy(auth?: string): Promise<TestProxy> {
  const log: ProxyLog = { targets: [], credentials: [], handshakes: [] };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.off("data", onData);
      log.handshakes.push(head.slice(0, end));
      const [requestLine, ...headerLines] = head.slice(0, end).split("\r\n");
      const [method, target] = (requestLine ?? "").split(" ");
      const credentials = headerLines
        .find((l) => l.toLowerCase().startsWith("proxy-authorization:"))
        ?.slice(20)
        .trim();
      log.credentials.push(credentials);
      if (method !== "CONNECT" || !target) {
        client.end("HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
      }
      if (auth && credentials !== `Basic ${Buffer.from(auth).toString("base64")}`) {
        client.end("HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n");
        return;
      }
      log.targets.push(target);
      const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
      const upstream = connect(port, host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        const rest = Buffer.from(head.slice(end + 4), "latin1");
        if (rest.length) upstream.write(rest);
        pipeBoth(client, upstream);
      });
      upstream.on("error", () => client.destroy());
    };
    client.on("data", onData);
  });
  const { port, close } = await listen(server, sockets);
  const userInfo = auth ? `${auth}@` : "";
  return { url: `http://${userInfo}127.0.0.1:${port}`, log, close };
}

/** A SOCKS5 server. `auth`: required `user:password` (method 2), else no authentication (method 0). */
export async function startSocks5Proxy(auth?: string): Promise<TestProxy> {
  const log: ProxyLog = { targets: [], credentials: [], handshakes: [] };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    let buffer = Buffer.alloc(0);
    let stage: "greeting" | "auth" | "request" = "greeting";
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (stage === "greeting") {
          if (buffer.length < 2 || buffer.length < 2 + buffer[1]!) return;
          const methods = [...buffer.subarray(2, 2 + buffer[1]!)];
          buffer = buffer.subarray(2 + buffer[1]!);
          const wanted = auth ? 2 : 0;
          if (!methods.includes(wanted)) {
            client.end(Buffer.from([5, 0xff]));
            return;
          }
          client.write(Buffer.from([5, wanted]));
          stage = auth ? "auth" : "request";
          continue;
        }
        if (stage === "auth") {
          if (buffer.length < 2) return;
          const userLength = buffer[1]!;
          if (buffer.length < 3 + userLength) return;
          const passLength = buffer[2 + userLength]!;
          if (buffer.length < 3 + userLength + passLength) return;
          const user = buffer.subarray(2, 2 + userLength).toString();
          const pass = buffer.subarray(3 + userLength, 3 + userLength + passLength).toString();
          buffer = buffer.subarray(3 + userLength + passLength);
          log.credentials.push(`${user}:${pass}`);
          const ok = `${user}:${pass}` === auth;
          client.write(Buffer.from([1, ok ? 0 : 1]));
          if (!ok) {
            client.end();
            return;
          }
          stage = "request";
          continue;
        }
        if (buffer.length < 5) return;
        const type = buffer[3];
        const addressLength = type === 1 ? 4 : type === 4 ? 16 : 1 + buffer[4]!;
        if (buffer.length < 4 + addressLength + 2) return;
        let host: string;
        if (type === 1) host = [...buffer.subarray(4, 8)].join(".");
        else if (type === 3) host = buffer.subarray(5, 5 + buffer[4]!).toString();
        else host = (buffer.subarray(4, 20).toString("hex").match(/.{4}/g) ?? []).join(":");
        const port = buffer.readUInt16BE(4 + addressLength);
        const rest = buffer.subarray(4 + addressLength + 2);
        client.off("data", onData);
        log.targets.push(`${host}:${port}`);
        const upstream = connect(port, host === "localhost" ? "127.0.0.1" : host, () => {
          client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          if (rest.length) upstream.write(rest);
          pipeBoth(client, upstream);
        });
        upstream.on("error", () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
        return;
      }
    };
    client.on("data", onData);
  });
  const { port, close } = await listen(server, sockets);
  const userInfo = auth ? `${auth}@` : "";
  return { url: `socks5://${userInfo}127.0.0.1:${port}`, log, close };
}
