/**
 * The protocol client a chat of the provider runs on, made for the chat and closed after
 * it. Over direct connections it takes them from the process's shared connections
 * (`sharedConnections`), so back-to-back chats reuse them; a client through a proxy or a
 * caller's fetch owns what it uses.
 */
import { OpenAssistantClient, type CookieInput } from "../client/client.js";
import type { FetchLike, RequestTrailEntry } from "../client/http-transport.js";

export interface ChatClientSettings {
  baseUrl: string;
  cookies: CookieInput;
  proxy: string | undefined;
  timeout: number | undefined;
  userAgent: string | undefined;
  headers: Record<string, string> | undefined;
  fetch: FetchLike | undefined;
  maxLineLength: number | undefined;
  env: NodeJS.ProcessEnv;
  onRequest: ((entry: RequestTrailEntry) => void) | undefined;
}

export function chatClient(settings: ChatClientSettings): OpenAssistantClient {
  return new OpenAssistantClient({
    ...settings,
    // A chat's requests run one after another on one connection.
    connections: 1,
    shareConnections: settings.fetch === undefined,
  });
}
