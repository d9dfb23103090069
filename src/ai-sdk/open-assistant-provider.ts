import { NoSuchModelError, type LanguageModelV3, type ProviderV3 } from "@ai-sdk/provider";
import type { ConnectionOptions } from "../client/connection-options.js";
import { ConfigError } from "../errors.js";
import { checkOptions, type SessionCookieOptions } from "../provider/options.js";
import { OpenAssistantLanguageModel, type OpenAssistantModelId } from "./open-assistant-language-model.js";

/** The provider's connection and cookie options, with the base URL spelled as the AI SDK's providers spell it. */
export interface OpenAssistantProviderSettings extends Omit<ConnectionOptions, "baseUrl">, SessionCookieOptions {
  /** Site root, may carry a path prefix. Default: env OASST_BASE_URL, else https://open-assistant.io. */
  baseURL?: string | undefined;
}

export interface OpenAssistantProvider extends ProviderV3 {
  (modelId: OpenAssistantModelId): LanguageModelV3;
  languageModel(modelId: OpenAssistantModelId): LanguageModelV3;
}

/** An AI SDK provider for an Open-Assistant server: `streamText({ model: openAssistant("OA_SFT_Llama_30B_6"), … })`. */
export function createOpenAssistant(settings: OpenAssistantProviderSettings = {}): OpenAssistantProvider {
  const { baseURL, ...connection } = settings;
  // A mistyped setting fails here, not in every call; `baseUrl` would be dropped for `baseURL`.
  if ("baseUrl" in connection && connection.baseUrl !== undefined)
    throw new ConfigError('createOpenAssistant takes "baseURL", not "baseUrl"', "Write baseURL, as the AI SDK's providers do.");
  checkOptions(connection, ["baseURL"]);
  const upstream = { ...connection, baseUrl: baseURL };
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
