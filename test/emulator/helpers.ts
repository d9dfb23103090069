import { request } from "node:http";
import { connect } from "node:net";
import { afterEachTest } from "../helpers/after-each-test.js";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import type { MessageRead } from "../../src/client/wire-types.js";

/** Emulators started by a test, stopped after it. */
const running: Emulator[] = [];
afterEachTest(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.stop()));
});

export async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const started = await startEmulator({ quiet: true, ...options });
  running.push(started);
  return started;
}

export const MODEL = "OA_SFT_Llama_30B_6";

export interface RawResponse {
  status: number;
  statusMessage: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** One request with node:http (no connection reuse), the body collected as bytes. */
export function http(
  server: Emulator,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; cookie?: boolean } = {},
): Promise<RawResponse> {
  const headers = { ...(options.cookie === false ? {} : { cookie: server.cookie }), ...options.headers };
  return new Promise((resolve, reject) => {
    const outgoing = request(`${server.url}${path}`, { method, headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: incoming.statusCode ?? 0,
          statusMessage: incoming.statusMessage ?? "",
          headers: incoming.headers,
          body,
          text: body.toString("utf8"),
        });
      });
    });
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

export function postJson(server: Emulator, path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return http(server, "POST", path, { headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

export interface StartedReply {
  chatId: string;
  prompterId: string;
  assistant: MessageRead;
  eventsPath: string;
}

/** Creates a chat, a prompter message and an assistant message, as a client does before reading events. */
export async function startReply(
  server: Emulator,
  prompt: string,
  extra: { parentId?: string; chatId?: string; samplingParameters?: Record<string, unknown> } = {},
): Promise<StartedReply> {
  const chatId = extra.chatId ?? (JSON.parse((await http(server, "POST", "/api/chat")).text) as { id: string }).id;
  const prompter = await postJson(server, "/api/chat/prompter_message", { chat_id: chatId, parent_id: extra.parentId ?? null, content: prompt });
  if (prompter.status !== 200) throw new Error(`prompter_message: ${prompter.status} ${prompter.text}`);
  const prompterId = (JSON.parse(prompter.text) as MessageRead).id;
  const body: Record<string, unknown> = { chat_id: chatId, parent_id: prompterId, model_config_name: MODEL, plugins: [] };
  if (extra.samplingParameters) body.sampling_parameters = extra.samplingParameters;
  const assistant = await postJson(server, "/api/chat/assistant_message", body);
  if (assistant.status !== 200) throw new Error(`assistant_message: ${assistant.status} ${assistant.text}`);
  const message = JSON.parse(assistant.text) as MessageRead;
  return { chatId, prompterId, assistant: message, eventsPath: `/api/chat/events?chat_id=${chatId}&message_id=${message.id}` };
}

export interface RawExchange {
  /** The status line and headers, as sent. */
  head: string;
  /** The body's chunks as framed by chunked transfer encoding (empty when the body is not chunked). */
  chunks: Buffer[];
  /** The body, de-chunked. */
  body: Buffer;
  /** True when the server closed the connection without the terminating 0-length chunk. */
  cut: boolean;
}

/** Reads a whole HTTP/1.1 exchange off a raw socket, so that chunk boundaries stay visible. */
export function rawExchange(server: Emulator, method: string, path: string, timeoutMs = 5000): Promise<RawExchange> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("raw exchange timed out"));
    }, timeoutMs);
    socket.on("data", (data: Buffer) => received.push(data));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parseExchange(Buffer.concat(received)));
    });
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nCookie: ${server.cookie}\r\nConnection: close\r\n\r\n`);
  });
}

function parseExchange(bytes: Buffer): RawExchange {
  const headEnd = bytes.indexOf("\r\n\r\n");
  const head = bytes.subarray(0, headEnd).toString("latin1");
  let rest = bytes.subarray(headEnd + 4);
  if (!/^transfer-encoding: chunked$/im.test(head)) return { head, chunks: [], body: rest, cut: false };
  const chunks: Buffer[] = [];
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    if (lineEnd < 0) return { head, chunks, body: Buffer.concat(chunks), cut: true };
    const size = parseInt(rest.subarray(0, lineEnd).toString("latin1"), 16);
    if (size === 0) return { head, chunks, body: Buffer.concat(chunks), cut: false };
    const chunk = rest.subarray(lineEnd + 2, lineEnd + 2 + size);
    chunks.push(chunk);
    if (chunk.length < size) return { head, chunks, body: Buffer.concat(chunks), cut: true };
    rest = rest.subarray(lineEnd + 2 + size + 2);
  }
}

/** The `data:` payloads of an event body, split on the given separator. */
export function dataPayloads(body: Buffer | string, separator = "\r\n"): string[] {
  const text = typeof body === "string" ? body : body.toString("utf8");
  return text
    .split(separator + separator)
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice("data: ".length));
}
