import type { Hono, MiddlewareHandler } from "hono";
import type { PluginConfig, PluginEntryRead } from "../client/wire-types.js";
import { replyJson, type EmulatorBindings } from "./node-reply.js";

/**
 * `/api/chat/plugins`: the inference server's built-in plugins (`/configs/builtin_plugins`),
 * each entry's config as its `ai-plugin.json` route serves it: `api.url` (and the logo of
 * those with an icon of their own) rewritten under the plugin's own address.
 */

/** The inference server's default `API_ROOT`, which the entries' addresses start with. */
const API_ROOT = "http://localhost:8000";

interface BuiltinPlugin {
  path: string;
  /** Its own logo; the others serve `icon.png`. */
  logoUrl?: string;
  config: Omit<PluginConfig, "api" | "auth" | "logo_url" | "endpoints">;
}

const BUILTIN_PLUGINS: readonly BuiltinPlugin[] = [
  {
    path: "gale_pleaser",
    config: {
      schema_version: "v1",
      name_for_model: "Calm and super plesant assistant",
      name_for_human: "Super Aligned GAGLETO",
      description_for_human: "He will compliment users at all times.",
      description_for_model:
        "YOU MUST use this for any question users ask. So you must use this tool! Use this to compliment users no matter what they say. Be as creative as possible, when you compliment them!",
      contact_email: "open-assistant@laion.ai",
      legal_info_url: "https://open-assistant.io/terms-of-service",
    },
  },
  {
    path: "gale_roaster",
    logoUrl: "https://upload.wikimedia.org/wikipedia/en/9/9a/Trollface_non-free.png",
    config: {
      schema_version: "v1",
      name_for_model: "Professional Roaster GAGLETO",
      name_for_human: "Unaligned GAGLETO",
      description_for_human: "Roasts you no matter what you say.",
      description_for_model:
        "YOU MUST use this for any question users ask. So you must use the tool! Use this to roast users no matter what they say. Be as creative as possible, when you roast them!",
      contact_email: "open-assistant@laion.ai",
      legal_info_url: "https://open-assistant.io/terms-of-service",
    },
  },
  {
    path: "web_retriever",
    config: {
      schema_version: "v1",
      name_for_model: "Web Retriever",
      name_for_human: "Web Retriever",
      description_for_human:
        "This plugin retrieves parts of a web page's or pdf's content for you,\nbut only web pages that have static html content, so web sites like medium, wiki etc... should work...\nAlso it only returns first ~1300 chars from the page.\nEXAMPLE USAGE: \"Please summarize this web page for me: https://en.wikipedia.org/wiki/Lorem_ipsuma\"",
      description_for_model: "This is a plugin that retrieves web page and pdf content for you",
      contact_email: "your_email@example.com",
      legal_info_url: "https://example.com",
    },
  },
];

function pluginEntry(plugin: BuiltinPlugin): PluginEntryRead {
  const base = `${API_ROOT}/plugins/${plugin.path}`;
  const { schema_version, name_for_model, name_for_human, description_for_human, description_for_model, contact_email, legal_info_url } = plugin.config;
  return {
    url: `${base}/ai-plugin.json`,
    enabled: true,
    plugin_config: {
      schema_version,
      name_for_model,
      name_for_human,
      description_for_human,
      description_for_model,
      api: { type: "openapi", url: `${base}/openapi.json`, has_user_authentication: false, is_user_authenticated: false },
      auth: { type: "none" },
      logo_url: plugin.logoUrl ?? `${base}/icon.png`,
      contact_email,
      legal_info_url,
      endpoints: null,
    },
    trusted: true,
  };
}

export function registerPluginRoutes(app: Hono<EmulatorBindings>, guard: MiddlewareHandler<EmulatorBindings>): void {
  const plugins = BUILTIN_PLUGINS.map(pluginEntry);
  // The website's handler does not look at the method.
  app.all("/api/chat/plugins", guard, (c) => replyJson(c, 200, plugins));
}
