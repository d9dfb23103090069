import { InvalidArgumentError, type Command } from "commander";
import type { Emulator, EmulatorOptions } from "../../emulator/emulator.js";
import { FAULT_DESCRIPTIONS, FAULT_NAMES, type Fault } from "../../emulator/faults.js";
import { MODEL_NAMES } from "../../emulator/models.js";
import { OpenAssistantError } from "../../errors.js";
import { isLoopbackHost } from "../../loopback.js";
import type { CliContext } from "../cli-context.js";
import { emulatorSessionPath, emulatorSessionToken } from "../emulator-session.js";
import { ExitCode, ReportedFailure } from "../exit-codes.js";

/**
 * `oasst emulate`: the local Open-Assistant-compatible server on a port, until Ctrl-C.
 * It prints the base URL and the session cookie as shell `export` lines on stdout; the
 * token is a throwaway for a local server, so printing it is the point.
 */

interface EmulateFlags {
  port: number;
  host: string;
  tokenDelay: number;
  replyTokens: number;
  pending: number;
  pendingInterval: number;
  pingInterval: number;
  fault?: Fault[];
  model?: string[];
  sessionToken?: string;
  secureCookie?: boolean;
  quiet?: boolean;
  pendingEventInterval: number;
  workerSlots: number;
  cancelPending: boolean;
  /** A number of messages per window, false for --no-rate-limit, undefined for the default. */
  rateLimit?: number | false;
  rateLimitWindow: number;
  connectionClose?: boolean;
  sessions: number;
  upstream?: string;
  upstreamModel?: string;
}

function numberFlag(what: string, integer: boolean, min: number, max = Number.POSITIVE_INFINITY) {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`Expected ${integer ? "a whole number" : "a number"} ${range} (${what}).`);
    }
    return value;
  };
}

/** A repeatable flag whose values must come from a known list. */
function listFlag<T extends string>(what: string, known: readonly T[]) {
  return (text: string, previous: T[] = []): T[] => {
    const value = known.find((name) => name === text);
    if (value === undefined) throw new InvalidArgumentError(`Unknown ${what}. Use one of: ${known.join(", ")}.`);
    return [...previous, value];
  };
}

const FAULT_HELP = FAULT_NAMES.map((name) => `  ${name.padEnd(16)}${FAULT_DESCRIPTIONS[name]}`).join("\n");

const EXAMPLES = `
Examples:
  $ oasst emulate
  $ oasst emulate --port 8765 --token-delay 30 --pending 3 --pending-interval 500
  $ oasst emulate --sessions 8 --no-rate-limit --connection-close
  $ oasst emulate --fault error-event --reply-tokens 40
  $ oasst emulate --upstream http://127.0.0.1:11434/v1 --upstream-model llama3.2

It prints two lines to paste into a shell (or read from a script):
  export OASST_BASE_URL=http://127.0.0.1:8765
  export OASST_COOKIES='next-auth.session-token=…'
The session token is kept in <config dir>/oasst/emulator-session, so a restarted
emulator accepts the cookie exported before (the port is new unless --port is given).

Faults (--fault, repeatable):
${FAULT_HELP}

Stop it with Ctrl-C (SIGINT) or SIGTERM. See docs/emulator.md.`;

async function runEmulate(context: CliContext, flags: EmulateFlags): Promise<void> {
  const { env, stdout, stderr, signals } = context;
  const options: EmulatorOptions = {
    port: flags.port,
    host: flags.host,
    tokenDelayMs: flags.tokenDelay,
    replyTokens: flags.replyTokens,
    pendingEvents: flags.pending,
    pendingIntervalMs: flags.pendingInterval,
    pingIntervalMs: flags.pingInterval,
    faults: flags.fault ?? [],
    models: flags.model,
    // Saved in the config dir: a restart keeps the cookie that other shells exported.
    sessionToken: flags.sessionToken ?? (await emulatorSessionToken(emulatorSessionPath(context), (message) => stderr.write(`warning: ${message}\n`))),
    secureCookie: flags.secureCookie ?? false,
    quiet: flags.quiet ?? false,
    pendingEventIntervalMs: flags.pendingEventInterval,
    workerSlots: flags.workerSlots,
    cancelPending: flags.cancelPending,
    rateLimit: flags.rateLimit === false ? false : { messages: flags.rateLimit ?? 20, windowMs: flags.rateLimitWindow * 1000 },
    connectionClose: flags.connectionClose ?? false,
    // The key comes from the environment only: a flag would show in `ps`.
    upstream: flags.upstream ? { baseUrl: flags.upstream, apiKey: env.OASST_UPSTREAM_API_KEY || undefined, model: flags.upstreamModel } : undefined,
  };
  if (!isLoopbackHost(flags.host)) {
    stderr.write(
      `warning: binding ${flags.host} makes the emulator reachable from other machines; anyone who can reach it can use the printed session token.\n`,
    );
  }
  let emulator: Emulator;
  try {
    // Loaded here, not at the top: every other command's start-up would pay for hono.
    const { startEmulator } = await import("../../emulator/emulator.js");
    emulator = await startEmulator(options);
  } catch (error) {
    stderr.write(`error: ${startFailure(error, flags)}\n`);
    throw new ReportedFailure(ExitCode.usage);
  }
  // Handlers first: whoever reads the printed URL may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      signals.off("SIGINT", stop);
      signals.off("SIGTERM", stop);
      void emulator.stop().then(resolve);
    };
    signals.on("SIGINT", stop);
    signals.on("SIGTERM", stop);
  });
  const extraUsers = Array.from({ length: flags.sessions - 1 }, () => emulator.addSession());
  stdout.write(`export OASST_BASE_URL=${emulator.url}\nexport OASST_COOKIES='${emulator.cookie}'\n`);
  // More users (--sessions): OASST_COOKIES_2, OASST_COOKIES_3, …
  extraUsers.forEach((session, index) => stdout.write(`export OASST_COOKIES_${index + 2}='${session.cookie}'\n`));
  if (!flags.quiet) {
    const faults = options.faults?.length ? options.faults.join(", ") : "none";
    stderr.write(`oasst emulate: listening on ${emulator.url} (faults: ${faults}); Ctrl-C to stop\n`);
    stderr.write(`In a shell with the lines above: oasst chat --base-url ${emulator.url} "Hello"\n`);
  }
  await stopped;
}

/** One line: what failed and what to do. */
function startFailure(error: unknown, flags: EmulateFlags): string {
  if (error instanceof OpenAssistantError) return `${error.summary}. ${error.hint}`;
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "EADDRINUSE":
      return `port ${flags.port} on ${flags.host} is in use. Pick another --port, or --port 0 for a free one.`;
    case "EACCES":
      return `no permission to listen on port ${flags.port}. Use a port above 1023, or --port 0.`;
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return `cannot bind ${flags.host}: not an address of this machine. Use --host 127.0.0.1.`;
    default:
      return `the emulator could not start: ${error instanceof Error ? error.message : String(error)}.`;
  }
}

export function registerEmulateCommand(program: Command, context: CliContext): void {
  program
    .command("emulate")
    .description("run a local Open-Assistant-compatible server (the website chat API) for tests, demos and benchmarks")
    .option("--port <n>", "port to listen on (0 picks a free one)", numberFlag("a TCP port", true, 0, 65535), 0)
    .option("--host <address>", "address to bind", "127.0.0.1")
    .option("--token-delay <ms>", "delay between token events", numberFlag("milliseconds", false, 0), 0)
    .option("--reply-tokens <n>", "tokens per reply (a request's max_new_tokens lowers it)", numberFlag("tokens", true, 0), 24)
    .option("--pending <n>", "scripted pending events at the start of each stream (a demo queue)", numberFlag("events", true, 0), 0)
    .option("--pending-interval <ms>", "silence after each scripted pending event", numberFlag("milliseconds", false, 0), 0)
    .option(
      "--pending-event-interval <ms>",
      "a waiting message's stream sends a pending event after each this many ms of silence (the real server: 1000)",
      numberFlag("milliseconds", false, 1),
      1000,
    )
    .option("--worker-slots <n>", "replies the emulated worker of each model generates at once", numberFlag("slots", true, 1), 4)
    .option("--no-cancel-pending", "a new assistant message does not cancel the user's other pending ones")
    .option("--rate-limit <n>", "assistant messages per user per window (over it: 500, as the real stack)", numberFlag("messages", true, 1))
    .option("--no-rate-limit", "no rate limit")
    .option("--rate-limit-window <seconds>", "the rate limit's fixed window", numberFlag("seconds", false, 0.001), 660)
    .option("--connection-close", "answer every request with Connection: close, as Next.js 13 does")
    .option("--sessions <n>", "users (sessions): prints OASST_COOKIES_2, … for the extra ones", numberFlag("sessions", true, 1), 1)
    .option("--ping-interval <ms>", "keep-alive ping comment interval", numberFlag("milliseconds", false, 1), 15_000)
    .option("--fault <name...>", "inject faults (see the list below)", listFlag("fault", FAULT_NAMES))
    .option("--model <name...>", "allowed model config names (default: all)", listFlag("model config name", MODEL_NAMES))
    .option("--session-token <token>", "session token to accept (default: a random one, kept in <config dir>/oasst/emulator-session)")
    .option("--secure-cookie", "use the __Secure-next-auth.session-token cookie name (as an https site)")
    .option("--quiet", "no request log on stderr")
    .option("--upstream <url>", "reply with a real model: an OpenAI-compatible API's base URL (e.g. Ollama's http://127.0.0.1:11434/v1)")
    .option("--upstream-model <name>", "the upstream model to ask (default: the Open-Assistant model config name); key: $OASST_UPSTREAM_API_KEY")
    .addHelpText("after", EXAMPLES)
    .action((flags: EmulateFlags) => runEmulate(context, flags));
}
