import type { Handler } from "hono";
import { OpenAssistantClient } from "../client/client.js";
import type { ModelConfigInfo } from "../client/wire-types.js";
import type { UpstreamOptions } from "../provider/reply-parts.js";
import { GatewayError } from "./openai-errors.js";
import type { AccountPool } from "./account-pool.js";

/** How long the site's model list is reused: it changes only with the site's configuration. */
export const MODELS_CACHE_MS = 60_000;

/** OpenAI's model object. Open-Assistant gives no creation date: `created` is 0. */
export interface OpenAIModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/**
 * The site's model list for the models routes, which take no concurrency slot: calls at
 * the same time share one upstream request, and its answer serves every call for
 * MODELS_CACHE_MS. So callers cannot make the gateway send one request with its cookie
 * per call. A failure is shared by the calls waiting for it, never kept.
 */
export class ModelList {
  readonly #pool: AccountPool;
  readonly #shutdown: AbortSignal | undefined;
  #inFlight: Promise<ModelConfigInfo[]> | undefined;
  #cached: { models: ModelConfigInfo[]; until: number } | undefined;

  constructor(pool: AccountPool, shutdown: AbortSignal | undefined) {
    this.#pool = pool;
    this.#shutdown = shutdown;
  }

  get(): Promise<ModelConfigInfo[]> {
    if (this.#cached && Date.now() < this.#cached.until) return Promise.resolve(this.#cached.models);
    this.#inFlight ??= this.#fetch().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #fetch(): Promise<ModelConfigInfo[]> {
    // Not one caller's signal: the others wait for the same answer.
    const models = await upstreamModels((await this.#pool.choose()).upstream, this.#shutdown);
    this.#cached = { models, until: Date.now() + MODELS_CACHE_MS };
    return models;
  }
}

/** `GET /v1/models`: the upstream server's model list. */
export function listModelsRoute(models: ModelList): Handler {
  return async (c) => c.json({ object: "list", data: (await models.get()).map(toOpenAIModel) });
}

/** `GET /v1/models/{id}`: one model of that list, or a 404. */
export function getModelRoute(models: ModelList): Handler {
  return async (c) => {
    const id = c.req.param("id") ?? "";
    const model = (await models.get()).find((m) => m.name === id);
    if (!model) {
      throw new GatewayError(404, `The model ${JSON.stringify(id)} does not exist on this Open-Assistant server (GET /v1/models lists them).`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return c.json(toOpenAIModel(model));
  };
}

/** The site's model list, asked with one account's options. */
export async function upstreamModels(upstream: UpstreamOptions, signal: AbortSignal | undefined): Promise<ModelConfigInfo[]> {
  const client = new OpenAssistantClient({
    baseUrl: upstream.baseUrl,
    cookies: upstream.cookies,
    proxy: upstream.proxy,
    timeout: upstream.timeout,
    userAgent: upstream.userAgent,
    headers: upstream.headers,
    fetch: upstream.fetch,
    env: upstream.env,
    onRequest: upstream.onRequest,
  });
  try {
    return await client.listModels({ signal });
  } finally {
    await client.close();
  }
}

function toOpenAIModel(model: ModelConfigInfo): OpenAIModel {
  return { id: model.name, object: "model", created: 0, owned_by: "open-assistant" };
}
