/**
 * A reverse proxy in front of the emulator that can answer some requests itself
 * (a 503 or 429 with or without Retry-After, say) and forwards the rest. It records
 * when each request arrived, to measure the pauses between retries.
 */
import { once } from "node:events";
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface CannedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface FrontHit {
  method: string;
  path: string;
  at: number;
  /** The answer the front gave itself, if it did not forward. */
  canned?: number;
}

export interface FlakyFront {
  url: string;
  hits: FrontHit[];
  /** Arrival times (ms, performance.now) of the requests to `path`. */
  times(path: string): number[];
  close(): Promise<void>;
}

/** `plan` returns an answer to give instead of forwarding, or undefined to forward to `upstream`. */
export async function startFlakyFront(upstream: string, plan: (request: IncomingMessage, path: string) => CannedAnswer | undefined): Promise<FlakyFront> {
  const target = new URL(upstream);
  const hits: FrontHit[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const answer = plan(req, path);
    hits.push({ method: req.method ?? "", path, at: performance.now(), canned: answer?.status });
    if (answer) {
      req.resume();
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers }).end(answer.body ?? "");
      return;
    }
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answerFromUpstream) => {
        res.writeHead(answerFromUpstream.statusCode ?? 502, answerFromUpstream.headers);
        answerFromUpstream.pipe(res);
        answerFromUpstream.on("error", () => res.destroy());
      },
    );
    req.pipe(forward);
    forward.on("error", () => res.destroy());
    res.on("close", () => forward.destroy());
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    times: (path) => hits.filter((hit) => hit.path === path).map((hit) => hit.at),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

/** Answers for the first `count` requests to `path`, then forwarding. */
export function failFirst(path: string, count: number, answer: CannedAnswer): (request: IncomingMessage, requestPath: string) => CannedAnswer | undefined {
  let seen = 0;
  return (_request, requestPath) => (requestPath === path && seen++ < count ? answer : undefined);
}

export const BUSY: CannedAnswer = { status: 503, body: '{"message":"The server is currently busy. Please try again later."}' };
export const TOO_MANY: CannedAnswer = { status: 429, body: '{"message":"Too Many Requests"}' };
