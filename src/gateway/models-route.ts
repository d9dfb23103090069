import type { Handler } from "hono";
import { OpenAssistantClient } from "../client/client.js";
import type { ModelConfigInfo } from "../client/wire-types.js";
import type { UpstreamOptions } from "../provider/reply-parts.js";
import { GatewayError } from "./openai-errors.js";
import type { AccountPool } from "./account-pool.js";

/** OpenAI's model object. Open-Assistant gives no creation date: `created` is 0. */
export interface OpenAIModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/** `GET /v1/models`: the upstream server's model list. */
export function listModelsRoute(pool: AccountPool): Handler {
  return async (c) => {
    const models = await upstreamModels((await pool.choose()).upstream, c.req.raw.signal);
    return c.json({ object: "list", data: models.map(toOpenAIModel) });
  };
}

/** `GET /v1/models/{id}`: one model of that list, or a 404. */
export function getModelRoute(pool: AccountPool): Handler {
  return async (c) => {
    const id = c.req.param("id") ?? "";
    const model = (await upstreamModels((await pool.choose()).upstream, c.req.raw.signal)).find((m) => m.name === id);
    if (!model) {
      throw new GatewayError(404, `The model ${JSON.stringify(id)} does not exist on this Open-Assistant server (GET /v1/models lists them).`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return c.json(toOpenAIModel(model));
  };
}

async function upstreamModels(upstream: UpstreamOptions, signal: AbortSignal): Promise<ModelConfigInfo[]> {
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
