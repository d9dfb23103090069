/**
 * HTTP/1.1 by hand over node:net, for the floor of stream-throughput: a whole chat's
 * five requests with the event stream's bytes read and dropped, on a connection kept
 * alive across chats, as the provider keeps its own. No fetch, no pool, no streams API:
 * bytes written, bytes read. What the server and the loopback allow, not a client.
 */
import net from "node:net";
import { performance } from "node:perf_hooks";
import { URL } from "node:url";
import { Buffer } from "node:buffer";
import { startReply } from "./measure.mjs";

/**
 * One keep-alive connection; requests go one after another.
 */
export class RawConnection {
  /** @type {net.Socket} */
  #socket;
  #buffer = Buffer.alloc(0);
  /** @type {(() => void) | undefined} */
  #wake;
  #ended = false;
  /** @type {Error | undefined} */
  #error;
  #host;

  /** @param {net.Socket} socket @param {string} host */
  constructor(socket, host) {
    this.#socket = socket;
    this.#host = host;
    socket.setNoDelay(true);
    socket.on("data", (chunk) => {
      this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
      this.#wake?.();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#wake?.();
    });
    socket.on("error", (error) => {
      this.#error = error;
      this.#wake?.();
    });
  }

  /** True once the server closed the connection or it failed. */
  get closed() {
    return this.#ended || this.#error !== undefined || this.#socket.destroyed;
  }

  /** @param {string} baseUrl */
  static connect(baseUrl) {
    const url = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
        socket.off("error", reject);
        resolve(new RawConnection(socket, url.host));
      });
      socket.once("error", reject);
    });
  }

  /** Resolves when more bytes (or the end) arrived. */
  #more() {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended) return Promise.reject(new Error("the server closed the connection"));
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve(undefined);
      };
    });
  }

  /**
   * Send a request and read its whole answer (Content-Length or chunked body).
   * @param {string} method
   * @param {string} path with the query string
   * @param {string} cookie
   * @param {string} [body] JSON
   * @returns {Promise<{ status: number, body: Buffer }>}
   */
  async request(method, path, cookie, body) {
    return this.#exchange(method, path, cookie, body, false);
  }

  /**
   * Send a request and read its answer to the end, dropping the body's bytes as they
   * come (no copy, no decoding). Resolves with the status and the body's length.
   * @returns {Promise<{ status: number, bytes: number }>}
   */
  async requestAndDiscard(method, path, cookie, body) {
    return this.#exchange(method, path, cookie, body, true);
  }

  /** Drop `count` bytes of the answer, waiting for them as needed. */
  async #skip(count) {
    let left = count;
    for (;;) {
      if (this.#buffer.length >= left) {
        this.#buffer = this.#buffer.subarray(left);
        return;
      }
      left -= this.#buffer.length;
      this.#buffer = Buffer.alloc(0);
      await this.#more();
    }
  }

  async #exchange(method, path, cookie, body, discard) {
    const length = body === undefined ? 0 : Buffer.byteLength(body);
    const head =
      `${method} ${path} HTTP/1.1\r\nhost: ${this.#host}\r\ncookie: ${cookie}\r\n` +
      (body === undefined ? "content-length: 0\r\n" : `content-type: application/json\r\ncontent-length: ${length}\r\n`) +
      "\r\n";
    this.#socket.write(body === undefined ? head : head + body);
    let headEnd;
    while ((headEnd = this.#buffer.indexOf("\r\n\r\n")) === -1) await this.#more();
    const headText = this.#buffer.toString("latin1", 0, headEnd);
    const status = Number(headText.slice(9, 12));
    const contentLength = /\r\ncontent-length: *(\d+)/i.exec(headText);
    const chunked = /\r\ntransfer-encoding: *chunked/i.test(headText);
    let offset = headEnd + 4;
    if (discard) {
      this.#buffer = this.#buffer.subarray(offset);
      if (contentLength) {
        await this.#skip(Number(contentLength[1]));
        return { status, bytes: Number(contentLength[1]) };
      }
      if (!chunked) throw new Error(`${method} ${path}: an answer with neither Content-Length nor chunked encoding`);
      let bytes = 0;
      for (;;) {
        let lineEnd;
        while ((lineEnd = this.#buffer.indexOf("\r\n")) === -1) await this.#more();
        const size = Number.parseInt(this.#buffer.toString("latin1", 0, lineEnd), 16);
        this.#buffer = this.#buffer.subarray(lineEnd + 2);
        await this.#skip(size + 2);
        bytes += size;
        if (size === 0) return { status, bytes };
      }
    }
    if (contentLength) {
      const end = offset + Number(contentLength[1]);
      while (this.#buffer.length < end) await this.#more();
      const answer = this.#buffer.subarray(offset, end);
      this.#buffer = this.#buffer.subarray(end);
      return { status, body: answer };
    }
    if (!chunked) throw new Error(`${method} ${path}: an answer with neither Content-Length nor chunked encoding`);
    /** @type {Buffer[]} */
    const parts = [];
    for (;;) {
      let lineEnd;
      while ((lineEnd = this.#buffer.indexOf("\r\n", offset)) === -1) await this.#more();
      const size = Number.parseInt(this.#buffer.toString("latin1", offset, lineEnd), 16);
      const dataStart = lineEnd + 2;
      while (this.#buffer.length < dataStart + size + 2) await this.#more();
      if (size === 0) {
        this.#buffer = this.#buffer.subarray(dataStart + 2);
        return { status, body: Buffer.concat(parts) };
      }
      parts.push(this.#buffer.subarray(dataStart, dataStart + size));
      offset = dataStart + size + 2;
    }
  }

  close() {
    this.#socket.destroy();
  }
}

/**
 * Connections to the bench server, kept alive from one raw chat to the next, as the
 * provider keeps its own: `get()` reopens one the server closed.
 */
export class RawConnections {
  /** @type {RawConnection | undefined} */
  #current;
  #baseUrl;

  /** @param {string} baseUrl */
  constructor(baseUrl) {
    this.#baseUrl = baseUrl;
  }

  async get() {
    if (!this.#current || this.#current.closed) this.#current = await RawConnection.connect(this.#baseUrl);
    return this.#current;
  }

  close() {
    this.#current?.close();
  }
}

/**
 * A whole chat by hand on a kept-alive connection: create, prompter message, assistant
 * message, events (read to the end and dropped), delete. Resolves with the time from
 * the first request to the delete's answer (ms: the sum of the five round trips) and
 * the event stream's length (bytes).
 * @param {RawConnections} connections
 * @param {{ url: string, cookie: string }} server
 * @param {string} prompt
 * @param {number} maxNewTokens
 */
export async function rawChat(connections, server, prompt, maxNewTokens) {
  const connection = await connections.get();
  const started = performance.now();
  const post = async (path, body) => {
    const answer = await connection.request("POST", path, server.cookie, JSON.stringify(body));
    if (answer.status !== 200) throw new Error(`raw chat: POST ${path} answered ${answer.status}`);
    return JSON.parse(answer.body.toString("utf8"));
  };
  const { chat, assistant } = await startReply(post, prompt, maxNewTokens);
  const events = await connection.requestAndDiscard("POST", `/api/chat/events?chat_id=${chat.id}&message_id=${assistant.id}`, server.cookie);
  const removed = await connection.request("DELETE", `/api/chat?chat_id=${chat.id}`, server.cookie);
  if (events.status !== 200 || removed.status !== 200) throw new Error(`raw chat: events ${events.status}, delete ${removed.status}`);
  return { ms: performance.now() - started, eventBytes: events.bytes };
}
