import type { Account } from "../accounts/accounts.js";
import type { OpenAssistantClient, RequestOptions } from "../client/client.js";
import type { AssistantMessageRequest, MessageRead } from "../client/wire-types.js";
import { ModelNotFoundError, RateLimitError, ServerError } from "../errors.js";

const LOOKUP_TIMEOUT_MS = 5_000;

/**
 * `POST /api/chat/assistant_message`, counted in the account's rate-limit ledger, with the
 * server's refusals made precise: a 422 about the model becomes a ModelNotFoundError that
 * lists the server's models; a 500 is a RateLimitError when no message was created and the
 * ledger says the account's window is full (the real website answers the inference
 * server's rate limit with a bare 500 "Something went wrong": the text alone cannot tell).
 */
export async function postAssistantMessage(
  client: OpenAssistantClient,
  account: Account,
  request: AssistantMessageRequest,
  options: RequestOptions,
): Promise<MessageRead> {
  const forecast = account.countAttempt();
  try {
    return await client.postAssistantMessage(request, options);
  } catch (error) {
    if (!(error instanceof ServerError)) throw error;
    if (error.status === 422 && /^Model .*(not found|not in allowed models)/.test(error.serverMessage ?? "")) {
      throw await modelNotFound(client, request.model_config_name, error);
    }
    if (error.status !== 500) throw error;
    const created = await wasCreated(client, request);
    if (created !== false) throw error;
    const init = { status: error.status, serverMessage: error.serverMessage, chatId: error.chatId, cause: error };
    if (!forecast.allowed) {
      throw new RateLimitError(
        `POST /api/chat/assistant_message was refused (HTTP 500${error.serverMessage ? `: ${error.serverMessage}` : ""}): this account has used its ${account.limit.messages} replies of the current ${Math.round(account.limit.windowMs / 60_000)}-minute window`,
        { ...init, retryAfterMs: Math.max(0, forecast.resetsAt - Date.now()) },
      );
    }
    throw new ServerError(`${error.summary}, and no reply was created`, {
      ...init,
      hint: `If this account is also used elsewhere (a browser, another machine), this is likely Open-Assistant's rate limit of ${account.limit.messages} replies per ${Math.round(account.limit.windowMs / 60_000)} minutes: wait that long. Otherwise the server failed: try again later.`,
    });
  }
}

/** Whether the failed post left an assistant message under its prompter message; undefined when the chat cannot be read. */
async function wasCreated(client: OpenAssistantClient, request: AssistantMessageRequest): Promise<boolean | undefined> {
  try {
    const chat = await client.getChat(request.chat_id, { timeout: LOOKUP_TIMEOUT_MS });
    return chat.messages.some((message) => message.role === "assistant" && message.parent_id === request.parent_id);
  } catch {
    return undefined;
  }
}

async function modelNotFound(client: OpenAssistantClient, model: string, error: ServerError): Promise<ModelNotFoundError> {
  const available = await client
    .listModels({ timeout: LOOKUP_TIMEOUT_MS })
    .then((models) => models.map((m) => m.name))
    .catch(() => undefined);
  return new ModelNotFoundError(model, { status: error.status, serverMessage: error.serverMessage, chatId: error.chatId, availableModels: available });
}
