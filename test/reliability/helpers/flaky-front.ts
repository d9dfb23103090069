/**
 * A reverse proxy in front of the emulator that can answer some requests itself
 * (a 503 or 429 with or without Retry-After, say), hold some back for a while, and
 * forwards the rest. It records when each request arrived, to measure the pauses
 * between retries, and counts the connections it accepted.
 */
import { once } from "node:events";
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface CannedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Forward the request `holdMs` after it came (and once `until` resolved); end its answer `endAfterMs` after the upstream's answer ended. */
export interface HeldRequest {
  holdMs?: number;
  /** Held until this settles too: the test decides when the request goes on (see `gate`). */
  until?: Promise<unknown>;
  endAfterMs?: number;
}

/** Requests held until the test releases them: `wait()` for each request, `release()` lets those waiting so far go on. */
export interface Gate {
  wait(): Promise<void>;
  release(): void;
  /** Requests waiting now. */
  waiting(): number;
}

export function gate(): Gate {
  let open = () => {};
  let current = new Promise<void>((resolve) => (open = resolve));
  let waiting = 0;
  return {
    wait() {
      waiting++;
      return current.then(() => void waiting--);
    },
    release() {
      open();
      current = new Promise<void>((resolve) => (open = resolve));
    },
    waiting: () => waiting,
  };
}

export type FrontPlan = (request: IncomingMessage, path: string) => CannedAnswer | HeldRequest | undefined;

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
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** `plan` returns an answer to give instead of forwarding, a hold before forwarding, or undefined to forward to `upstream` at once. */
export async function startFlakyFront(upstream: string, plan: FrontPlan): Promise<FlakyFront> {
  const target = new URL(upstream);
  const hits: FrontHit[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const answer = plan(req, path);
    const canned = answer && "status" in answer ? answer : undefined;
    const held: HeldRequest = answer && !("status" in answer) ? answer : {};
    const { holdMs = 0, until, endAfterMs = 0 } = held;
    hits.push({ method: req.method ?? "", path, at: performance.now(), canned: canned?.status });
    if (canned) {
      req.resume();
      res.writeHead(canned.status, { "content-type": "application/json", ...canned.headers }).end(canned.body ?? "");
      return;
    }
    const forward = () => {
      const onward = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answerFromUpstream) => {
          res.writeHead(answerFromUpstream.statusCode ?? 502, answerFromUpstream.headers);
          answerFromUpstream.pipe(res, { end: endAfterMs === 0 });
          if (endAfterMs > 0) answerFromUpstream.on("end", () => setTimeout(() => res.end(), endAfterMs));
          answerFromUpstream.on("error", () => res.destroy());
        },
      );
      req.pipe(onward);
      onward.on("error", () => res.destroy());
      res.on("close", () => onward.destroy());
    };
    const released = until ? Promise.all([until, new Promise((resolve) => setTimeout(resolve, holdMs))]) : undefined;
    if (released) void released.then(forward);
    else if (holdMs > 0) setTimeout(forward, holdMs);
    else forward();
  });
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    times: (path) => hits.filter((hit) => hit.path === path).map((hit) => hit.at),
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

/** Answers for the first `count` requests to `path`, then forwarding. */
export function failFirst(path: string, count: number, answer: CannedAnswer): FrontPlan {
  let seen = 0;
  return (_request, requestPath) => (requestPath === path && seen++ < count ? answer : undefined);
}

export const BUSY: CannedAnswer = { status: 503, body: '{"message":"The server is currently busy. Please try again later."}' };
export const TOO_MANY: CannedAnswer = { status: 429, body: '{"message":"Too Many Requests"}' };
