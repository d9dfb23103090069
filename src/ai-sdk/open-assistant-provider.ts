import { NoSuchModelError, type LanguageModelV3, type ProviderV3 } from "@ai-sdk/provider";
import type { CookieInput } from "../client/client.js";
import type { FetchLike } from "../client/http-transport.js";
import { OpenAssistantLanguageModel, type OpenAssistantModelId } from "./open-assistant-language-model.js";

export interface OpenAssistantProviderSettings {
  /** Site root, may carry a path prefix. Default: env OASST_BASE_URL, else https://open-assistant.io. */
  baseURL?: string;
  /** The session cookies, as an object or a `Cookie` header. Default: env OASST_COOKIES. */
  cookies?: CookieInput;
  /** http://, https://, socks5://, socks5h:// (user:password allowed). Default: HTTPS_PROXY/HTTP_PROXY/ALL_PROXY minus NO_PROXY. */
  proxy?: string;
  /** Extra headers for every request to the server. */
  headers?: Record<string, string>;
  /** Bring your own fetch (then `proxy` is not applied). */
  fetch?: FetchLike;
}

export interface OpenAssistantProvider extends ProviderV3 {
  (modelId: OpenAssistantModelId): LanguageModelV3;
  languageModel(modelId: OpenAssistantModelId): LanguageModelV3;
}

/** An AI SDK provider for an Open-Assistant server: `streamText({ model: openAssistant("OA_SFT_Llama_30B_6"), … })`. */
export function createOpenAssistant(settings: OpenAssistantProviderSettings = {}): OpenAssistantProvider {
  const upstream = {
    baseUrl: settings.baseURL,
    cookies: settings.cookies,
    proxy: settings.proxy,
    headers: settings.headers,
    fetch: settings.fetch,
  };
  const languageModel = (modelId: OpenAssistantModelId) => new OpenAssistantLanguageModel(modelId, { provider: "open-assistant.chat", upstream });
  const provider = (modelId: OpenAssistantModelId) => languageModel(modelId);
  return Object.assign(provider, {
    specificationVersion: "v3" as const,
    languageModel,
    // Open-Assistant serves chat models only.
    embeddingModel: (modelId: string): never => {
      throw new NoSuchModelError({ modelId, modelType: "embeddingModel" });
    },
    imageModel: (modelId: string): never => {
      throw new NoSuchModelError({ modelId, modelType: "imageModel" });
    },
  });
}

/** The provider with default settings: the server from OASST_BASE_URL, the cookies from OASST_COOKIES. */
export const openAssistant: OpenAssistantProvider = createOpenAssistant();
