/**
 * The node:http floor: a chat's five requests through `node:http` with a keep-alive
 * `Agent`, the event stream read and dropped. What Node's HTTP stack costs for a chat,
 * under any client built on it: the floor rows of the paced and concurrency scenarios.
 */
import { Buffer } from "node:buffer";
import http from "node:http";
import { URL } from "node:url";
import { startReply } from "./measure.mjs";

/** The final event carries the whole text: a stream that holds it was read to its end. */
const FINAL_EVENT = Buffer.from('"event_type": "message"');

/** An account's cookies as a `Cookie` header. */
export function cookieHeader(cookies) {
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");
}

/**
 * node:http request → { status, body, reads, ended } (the body dropped when `drop`: then
 * the number of reads and whether its last two reads hold the final message event).
 */
function request(agent, url, method, path, cookie, body, drop = false) {
  return new Promise((resolve, reject) => {
    const headers = { cookie };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const req = http.request(new URL(path, url), { method, agent, headers }, (res) => {
      const parts = [];
      let reads = 0;
      let previous;
      let last;
      res.on("data", (chunk) => {
        reads++;
        if (drop) [previous, last] = [last, chunk];
        else parts.push(chunk);
      });
      res.on("end", () => {
        const ended = drop && [previous, last].some((read) => read?.includes(FINAL_EVENT));
        resolve({ status: res.statusCode, reads, ended, body: drop ? "" : Buffer.concat(parts).toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * One chat on `agent`'s connections: create, prompter message, assistant message, the
 * event stream (dropped), delete. Resolves with the stream's reads and whether it ended
 * with the final message event.
 */
export async function floorChat(agent, url, cookie, prompt, tokens) {
  const post = async (path, body) => {
    const answer = await request(agent, url, "POST", path, cookie, JSON.stringify(body));
    if (answer.status !== 200) throw new Error(`floor: POST ${path} answered ${answer.status}`);
    return JSON.parse(answer.body);
  };
  const { chat, assistant } = await startReply(post, prompt, tokens);
  const events = await request(agent, url, "POST", `/api/chat/events?chat_id=${chat.id}&message_id=${assistant.id}`, cookie, undefined, true);
  const removed = await request(agent, url, "DELETE", `/api/chat?chat_id=${chat.id}`, cookie);
  if (events.status !== 200 || removed.status !== 200) throw new Error(`floor: events ${events.status}, delete ${removed.status}`);
  return { reads: events.reads, ended: events.ended };
}
