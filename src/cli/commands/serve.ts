import { InvalidArgumentError, type Command } from "commander";
import { cookieHeaderValues } from "../../cookies/cookie-header.js";
import { ConfigError } from "../../errors.js";
import type { GatewaySession, ServedGateway, UpstreamCheck } from "../../gateway/index.js";
import type { ConnectionFlags } from "../config.js";
import type { CliContext } from "../cli-context.js";
import { addConnectionFlags } from "../connection-flags.js";
import { keepSecret, stderrWarner } from "../error-output.js";
import { ExitCode } from "../exit-codes.js";
import { checkTimeout } from "../flag-values.js";

interface ServeFlags extends ConnectionFlags {
  host: string;
  port: number;
  apiKey?: string;
  cors?: string[];
  allowedHost?: string[];
  maxConcurrent: number;
  maxQueue: number;
  maxBodyBytes: number;
  session?: string[];
  maxConnections?: number;
  headersTimeout?: number;
  requestTimeout?: number;
  keepAliveTimeout?: number;
  queueTimeout?: number;
  conversations?: boolean;
  conversationTtl?: number;
  quiet?: boolean;
}

const EXAMPLES = `
Examples:
  $ oasst serve
  $ OASST_API_KEY=$(openssl rand -hex 24) oasst serve --host 0.0.0.0 --port 8080
  $ oasst serve --cors http://localhost:5173 --max-concurrent 2
  $ oasst serve --session @alice.cookies.txt --session @bob.cookies.txt --session 'next-auth.session-token=…'
  $ oasst serve --conversations --conversation-ttl 2h     # follow-ups continue their chat on the site

Then point any OpenAI client at it:
  $ curl -N http://127.0.0.1:1337/v1/chat/completions -H 'content-type: application/json' \\
      -d '{"model":"OA_SFT_Llama_30B_6","stream":true,"messages":[{"role":"user","content":"Hello"}]}'
  OPENAI_BASE_URL=http://127.0.0.1:1337/v1 OPENAI_API_KEY=<--api-key, or any text when none is set: the openai client needs one>

The gateway logs in to Open-Assistant with its own session cookies (found as for
\`oasst chat\`); callers never send them and never see them. Open-Assistant runs one
queued reply per account and 20 replies per account per 11 minutes: give several
accounts with --session to serve several people at once (GET /v1/status shows each
account's state). Ctrl-C stops it.
See docs/gateway.md.`;

function integerFlag(what: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max} (${what}).`);
    }
    return value;
  };
}

/** A duration above 0: seconds, or 1500ms, 30s, 2m. */
function durationFlag(flag: string) {
  return (text: string): number => {
    const ms = checkTimeout(text, flag);
    if (ms < 1) throw new InvalidArgumentError("Expected a duration above 0: seconds, or a number with a unit (1500ms, 30s, 2m).");
    return ms;
  };
}

function appendFlag(text: string, previous: string[] = []): string[] {
  return [...previous, text];
}

/** `--session @path` names a cookie file; anything else is a Cookie header. */
function sessionOf(flag: string): GatewaySession {
  return flag.startsWith("@") ? { cookiesFile: flag.slice(1) } : { cookies: flag };
}

async function runServe(context: CliContext, flags: ServeFlags): Promise<void> {
  // Loaded on use: `oasst --help` and the other commands start without hono.
  const [
    { serveGateway, isLoopbackHost, defaultConversationsFile, requestLogLine },
    { configFilePath, readConfigFile, resolveConnectionSettings },
    { findSessionCookies },
    connection,
    { VerboseLog },
    { cliAccounts },
  ] = await Promise.all([
    import("../../gateway/index.js"),
    import("../config.js"),
    import("../session-cookies.js"),
    import("../connection.js"),
    import("../verbose-log.js"),
    import("../accounts-state.js"),
  ]);
  const { env, stdout, stderr, signals } = context;
  const warn = stderrWarner(context);
  const apiKey = flags.apiKey?.trim() || env.OASST_API_KEY?.trim() || undefined;
  keepSecret(context, apiKey);
  const log = new VerboseLog(context, flags.verbose === true);
  const config = await readConfigFile(configFilePath(context));
  const settings = resolveConnectionSettings(context, flags, config, connection.DEFAULTS);
  const sessions = flags.session?.map(sessionOf);
  for (const flag of flags.session ?? []) if (!flag.startsWith("@")) keepSecret(context, ...cookieHeaderValues(flag));
  if (sessions && (flags.cookie || flags.cookiesFile || flags.browser || flags.profile)) {
    throw new ConfigError(
      "--session was given with --cookie, --cookies-file, --browser or --profile",
      "Give every account as a --session, or use the other flags for one account.",
    );
  }
  const cookies = sessions ? undefined : await findSessionCookies(context, settings.baseUrl.value, flags, config, warn, settings.baseUrl.from);
  if (cookies) connection.logSettings(log, settings, cookies);
  if (flags.conversationTtl !== undefined && !flags.conversations) {
    throw new ConfigError("--conversation-ttl was given without --conversations", "Add --conversations to keep chats, or leave --conversation-ttl out.");
  }
  if (!isLoopbackHost(flags.host) && !apiKey) {
    warn(`binding ${flags.host} without an API key: anyone who can reach this address can use your Open-Assistant account. Set --api-key or OASST_API_KEY.`);
  }
  // Listening for Ctrl-C before the port opens: a signal right after start-up must not kill a half-set-up gateway.
  let onStop = () => {};
  const stopRequested = new Promise<void>((resolve) => (onStop = resolve));
  signals.once("SIGINT", onStop);
  signals.once("SIGTERM", onStop);
  let gateway: ServedGateway;
  try {
    gateway = await serveGateway({
      host: flags.host,
      port: flags.port,
      apiKey,
      cors: flags.cors,
      allowedHosts: flags.allowedHost,
      maxConnections: flags.maxConnections,
      headersTimeout: flags.headersTimeout,
      requestTimeout: flags.requestTimeout,
      keepAliveTimeout: flags.keepAliveTimeout,
      queueTimeout: flags.queueTimeout,
      conversations: flags.conversations ? { file: defaultConversationsFile(env), ttlMs: flags.conversationTtl } : undefined,
      maxConcurrent: flags.maxConcurrent,
      maxQueue: flags.maxQueue,
      maxBodyBytes: flags.maxBodyBytes,
      baseUrl: settings.baseUrl.value,
      cookies: cookies?.cookies,
      sessions,
      proxy: settings.proxy,
      timeout: settings.timeout,
      env,
      accounts: cliAccounts(context),
      onRequest: flags.verbose ? log.request : undefined,
      onRequestLog: flags.quiet ? undefined : (entry) => stderr.write(`oasst serve: ${requestLogLine(entry)}\n`),
      onWarning: (warning) => warn(warning.message),
    });
  } catch (error) {
    signals.off("SIGINT", onStop);
    signals.off("SIGTERM", onStop);
    throw error;
  }
  stdout.write(`oasst serve: listening on ${gateway.url} (OpenAI base URL ${gateway.url}/v1${apiKey ? ", API key required" : ""}); Ctrl-C to stop\n`);
  // Not awaited: the gateway serves meanwhile, and Ctrl-C must not wait for a dead server's timeout.
  void gateway.checkUpstream().then((check) => reportUpstreamCheck(context, check, settings.baseUrl.value, flags.quiet === true));
  await stopRequested;
  signals.off("SIGINT", onStop);
  signals.off("SIGTERM", onStop);
  // A second Ctrl-C does not wait for the replies in flight to end.
  if (context.ownsProcess) signals.once("SIGINT", () => process.exit(ExitCode.interrupted));
  stderr.write("oasst serve: stopping (replies in flight end, their chats are deleted)…\n");
  await gateway.close();
}

/** The start-up check: a warning with a fix for each account that failed, else (unless --quiet) a note that it is ready. */
function reportUpstreamCheck(context: CliContext, check: UpstreamCheck, baseUrl: string, quiet: boolean): void {
  const warn = stderrWarner(context);
  // Ctrl-C came first: the gateway is stopping, the check says nothing about the server.
  if (check.failures.some((failure) => failure.code === "aborted")) return;
  for (const failure of check.failures) {
    const which = check.accounts > 1 ? ` (--session number ${failure.account})` : "";
    if (failure.code === "auth") {
      warn(
        `Open-Assistant at ${baseUrl} refused the session cookies${which}: ${failure.message}. Its requests will fail: give fresh cookies with --cookie, --cookies-file, --browser or --session.`,
      );
    } else if (failure.code === "connection" || failure.code === "timeout") {
      warn(
        `could not reach Open-Assistant at ${baseUrl}${which}: ${failure.message}. Requests will fail until it answers: check --base-url (env OASST_BASE_URL), --proxy and the network.`,
      );
    } else {
      warn(`Open-Assistant at ${baseUrl} did not list its models${which}: ${failure.message}. Requests may fail: check --base-url and the session cookies.`);
    }
  }
  const usable = check.accounts - check.failures.length;
  if (quiet || usable === 0) return;
  const models = check.models.length === 1 ? "1 model" : `${check.models.length} models`;
  const accounts = check.accounts === 1 ? "its account" : `${usable} of ${check.accounts} accounts`;
  context.stderr.write(`oasst serve: ready: Open-Assistant at ${baseUrl} lists ${models} to ${accounts}\n`);
}

/** `oasst serve`: the OpenAI-compatible gateway, until Ctrl-C. */
export function registerServeCommand(program: Command, context: CliContext): void {
  const command = program
    .command("serve")
    .description("serve an OpenAI-compatible API (/v1/chat/completions, /v1/models) in front of Open-Assistant")
    .option("--host <address>", "address to bind; other than loopback, set an API key", "127.0.0.1")
    .option("--port <n>", "port to listen on (0 picks a free one)", integerFlag("a TCP port", 0, 65535), 1337)
    .option("--api-key <key>", "require 'Authorization: Bearer <key>' from callers (env OASST_API_KEY)")
    .option("--cors <origin>", "allow web pages of this origin to call, * for any (repeatable; default: none, other Origins get 403)", appendFlag)
    .option(
      "--allowed-host <name>",
      "also answer to this host name in Host (repeatable; *.domain, * for any); bound to loopback, only localhost names are accepted by default",
      appendFlag,
    )
    .option("--max-concurrent <n>", "replies in flight at once", integerFlag("replies", 1), 8)
    .option("--max-queue <n>", "requests waiting beyond those; more get 503 with Retry-After", integerFlag("requests", 0), 64)
    .option("--max-body-bytes <n>", "largest request body; larger ones get 413", integerFlag("bytes", 1), 1024 * 1024)
    .option("--max-connections <n>", "connections open at once; more are closed at once (default 256)", integerFlag("connections", 1))
    .option(
      "--headers-timeout <duration>",
      "a connection that has not sent a request's headers in this time is closed (default 30s)",
      durationFlag("--headers-timeout"),
    )
    .option(
      "--request-timeout <duration>",
      "a request not received whole (headers and body) in this time is closed (default 60s)",
      durationFlag("--request-timeout"),
    )
    .option("--keep-alive-timeout <duration>", "an idle connection between requests is closed after this (default 5s)", durationFlag("--keep-alive-timeout"))
    .option("--queue-timeout <duration>", "a reply that waits in Open-Assistant's queue longer gets 504 (default 5m)", durationFlag("--queue-timeout"))
    .option("--quiet", "no request log and no start-up note on stderr (warnings stay)")
    .option("--conversations", "keep chats and continue them: a known history sends only its new turn (see docs/conversations.md)")
    .option(
      "--conversation-ttl <duration>",
      "with --conversations: a chat unused this long is deleted on the site (default 24h)",
      durationFlag("--conversation-ttl"),
    )
    .option(
      "--session <cookie|@file>",
      "one account for the gateway: a Cookie header, or @path of a cookie file (repeatable: replies are spread over the accounts)",
      appendFlag,
    );
  addConnectionFlags(command)
    .addHelpText("after", EXAMPLES)
    .action((flags: ServeFlags) => runServe(context, flags));
}
