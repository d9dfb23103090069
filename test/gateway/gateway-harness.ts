/**
 * The gateway in front of the emulator, both on 127.0.0.1 with free ports, stopped
 * after each test. The gateway gets an empty environment: no OASST_* variable or
 * proxy of the machine running the tests takes part.
 */
import OpenAI from "openai";
import type { RecordedRequest } from "../../src/emulator/emulator-state.js";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { serveGateway, type ServeGatewayOptions, type ServedGateway } from "../../src/gateway/index.js";
import type { OpenAssistantWarning } from "../../src/provider/options.js";
import { afterEachTest } from "../helpers/after-each-test.js";

export const MODEL = "OA_SFT_Llama_30B_6";

const stops: Array<() => Promise<void>> = [];
afterEachTest(async () => {
  // Gateways first: their replies in flight delete their chats on the emulator.
  for (const stop of stops.splice(0).reverse()) await stop();
});

export interface Setup {
  emulator: Emulator;
  gateway: ServedGateway;
  /** Warnings the gateway's provider reported (chats that could not be deleted). */
  warnings: OpenAssistantWarning[];
  /** The official OpenAI client, pointed at the gateway, with its retries off. */
  openai(options?: { apiKey?: string }): OpenAI;
  /** The assistant_message requests the emulator received, bodies parsed. */
  assistantRequests(): Array<{ model_config_name: string; sampling_parameters: Record<string, number | null> }>;
  /** The prompter message contents the emulator received. */
  prompts(): string[];
}

/**
 * `cleanup`: the test context's onTestFinished, for tests that run at once (describe.concurrent): the
 * gateway and the emulator are stopped when that test ends, not after each test with the others'.
 */
export async function setup(
  emulatorOptions: EmulatorOptions = {},
  gatewayOptions: ServeGatewayOptions = {},
  cleanup?: (stop: () => Promise<void>) => void,
): Promise<Setup> {
  // The gateway's stop runs first: its replies in flight delete their chats on the emulator.
  const own: Array<() => Promise<void>> = [];
  cleanup?.(async () => {
    for (const stop of own.splice(0).reverse()) await stop();
  });
  const stopAfter = (stop: () => Promise<void>) => (cleanup ? own : stops).push(stop);
  const emulator = await startEmulator({ quiet: true, ...emulatorOptions });
  stopAfter(() => emulator.stop());
  const warnings: OpenAssistantWarning[] = [];
  const gateway = await serveGateway({
    port: 0,
    baseUrl: emulator.url,
    cookies: emulator.cookie,
    maxRetries: 0,
    env: {},
    onWarning: (warning) => warnings.push(warning),
    ...gatewayOptions,
  });
  stopAfter(() => gateway.close());
  const bodies = (path: string) =>
    emulator.requests
      .filter((request: RecordedRequest) => request.method === "POST" && request.path === path)
      .map((request) => JSON.parse(request.body) as unknown);
  return {
    emulator,
    gateway,
    warnings,
    openai: (options = {}) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: options.apiKey ?? "unused", maxRetries: 0 }),
    assistantRequests: () => bodies("/api/chat/assistant_message") as ReturnType<Setup["assistantRequests"]>,
    prompts: () => (bodies("/api/chat/prompter_message") as Array<{ content: string }>).map((body) => body.content),
  };
}

/** Poll `check` until it holds, or fail after `timeoutMs`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** POST a JSON body to the gateway with fetch; the raw response. */
export function post(gateway: ServedGateway, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
