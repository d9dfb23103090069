/** `oasst/ai-sdk`: Open-Assistant as a Vercel AI SDK provider. */
export { createOpenAssistant, openAssistant, type OpenAssistantProvider, type OpenAssistantProviderSettings } from "./open-assistant-provider.js";
export { OpenAssistantLanguageModel, type OpenAssistantLanguageModelOptions, type OpenAssistantModelId } from "./open-assistant-language-model.js";
