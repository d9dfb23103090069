/** The small provider interface of gpt4free, in TypeScript: more providers can implement it the same way. */

export type MessageRole = "system" | "developer" | "user" | "assistant" | (string & {});

export interface Message {
  role: MessageRole;
  content: string;
}

/** A conversation, oldest message first. Providers never mutate it. */
export type Messages = readonly Message[];

/** What `createAsyncGenerator` returns: the reply's text, piece by piece. */
export type AsyncResult = AsyncGenerator<string, void, undefined>;

export interface AsyncGeneratorProvider<Options extends object = object> {
  /** The service's home page. */
  readonly url: string;
  /** Whether the public service answers today. */
  readonly working: boolean;
  readonly needsAuth: boolean;
  readonly supportsStream: boolean;
  readonly supportsMessageHistory: boolean;
  /** The default model. */
  readonly model: string;
  createAsyncGenerator(model: string, messages: Messages, options?: Options): AsyncResult;
  /** The whole reply as one string. */
  createAsync(model: string, messages: Messages, options?: Options): Promise<string>;
}
