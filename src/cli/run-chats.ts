import type { OpenAssistantClient } from "../client/client.js";
import type { ChatListRead } from "../client/wire-types.js";
import { ConfigError, ServerError } from "../errors.js";
import type { CliContext } from "./cli-context.js";
import type { ConnectionFlags } from "./config.js";
import { confirm } from "./confirm.js";
import { openClient } from "./connection.js";
import { errorReport, stderrWarner } from "./error-output.js";
import { formatTable } from "./table.js";
import { ignoreClosedPipe, stdoutPalette } from "./terminal.js";
import { stripTerminalEscapes } from "./terminal-escapes.js";
import { VerboseLog } from "./verbose-log.js";

export interface ChatsFlags extends ConnectionFlags {
  json?: boolean;
  delete?: string[];
  deleteAll?: boolean;
  yes?: boolean;
}

/** Deletes in flight at once: quick for many chats, gentle on the server. */
const DELETE_CONCURRENCY = 4;
const TITLE_WIDTH = 60;

/** `oasst chats`: list the account's chats, or delete some or all of them. */
export async function runChats(context: CliContext, flags: ChatsFlags): Promise<void> {
  if (flags.delete?.length && flags.deleteAll) {
    throw new ConfigError("--delete and --delete-all cannot be used together", "Use --delete ID… for some chats, or --delete-all for every one.");
  }
  if (flags.deleteAll && !flags.yes && !context.stdin.isTTY) {
    throw new ConfigError("--delete-all asks for confirmation, but stdin is not a terminal", "Add --yes to delete every chat without the question.");
  }
  const { stdout, stderr } = context;
  stdout.on("error", ignoreClosedPipe);
  const warn = stderrWarner(context);
  const client = await openClient(context, flags, new VerboseLog(context, flags.verbose === true), warn);
  try {
    if (flags.delete?.length) {
      await deleteChats(context, client, flags.delete, flags.json === true, warn);
    } else if (flags.deleteAll) {
      const ids = (await listAllChats(client, true)).map((chat) => chat.id);
      if (ids.length === 0) {
        stderr.write("There are no chats to delete.\n");
      } else if (
        flags.yes ||
        (await confirm(context, `Delete ${ids.length === 1 ? "the only chat" : `all ${ids.length} chats`}? This cannot be undone. [y/N] `))
      ) {
        await deleteChats(context, client, ids, flags.json === true, warn);
      } else {
        stderr.write("Nothing was deleted.\n");
      }
    } else {
      printChats(context, await listAllChats(client, false), flags.json === true);
    }
  } finally {
    await client.close();
  }
}

/** Every page, newest first: `next` is followed with `after` until the server has no more. */
async function listAllChats(client: OpenAssistantClient, includeHidden: boolean): Promise<ChatListRead[]> {
  const chats: ChatListRead[] = [];
  const cursors = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const page = await client.listChats({ after, includeHidden: includeHidden || undefined });
    chats.push(...page.chats);
    // A cursor seen before would loop forever on a misbehaving server.
    if (!page.next || cursors.has(page.next)) return chats;
    cursors.add(page.next);
    after = page.next;
  }
}

function printChats(context: CliContext, chats: ChatListRead[], json: boolean): void {
  const { stdout } = context;
  if (json) {
    stdout.write(`${JSON.stringify(chats, null, 2)}\n`);
    return;
  }
  if (chats.length === 0) {
    stdout.write("No chats.\n");
    return;
  }
  const rows = chats.map((chat) => [chat.id, `${chat.created_at.slice(0, 16).replace("T", " ")} UTC`, displayTitle(chat.title)]);
  stdout.write(formatTable(["ID", "CREATED", "TITLE"], rows, stdoutPalette(context)));
}

/** The title is the first prompt as sent: without oasst's own instruction wrapper, on one line, shortened. */
function displayTitle(title: string | null): string {
  if (title === null) return "";
  const bare = title
    .replace(/^<s>\[INST\]\s*/, "")
    .replace(/\s*\[\/INST\]$/, "")
    .replace(/\s+/g, " ")
    .trim();
  return bare.length > TITLE_WIDTH ? `${bare.slice(0, TITLE_WIDTH - 1)}…` : bare;
}

/**
 * Delete each chat; one failure does not stop the others. The first failure is
 * thrown (its exit status says what went wrong), the others are warnings.
 */
async function deleteChats(context: CliContext, client: OpenAssistantClient, ids: string[], json: boolean, warn: (message: string) => void): Promise<void> {
  const { stdout } = context;
  const queue = [...ids];
  const deleted: string[] = [];
  const failures: Array<{ id: string; error: unknown }> = [];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        await client.deleteChat(id);
        deleted.push(id);
        // With --delete-all the ids are the server's.
        if (!json) stdout.write(`deleted ${stripTerminalEscapes(id)}\n`);
      } catch (error) {
        failures.push({ id, error: withDeleteHint(error, id) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, ids.length) }, worker));
  if (json) stdout.write(`${JSON.stringify({ deleted, failed: failures.map((failure) => failure.id) })}\n`);
  const [first, ...others] = failures;
  for (const { id, error } of others) warn(`Chat ${id} was not deleted: ${errorReport(context, error).summary}`);
  if (first) throw first.error;
}

/** The site answers an unknown chat id, or another account's, with a bare 500 (the emulator too; see docs/emulator.md). */
function withDeleteHint(error: unknown, id: string): unknown {
  if (!(error instanceof ServerError) || (error.status !== 500 && error.status !== 404)) return error;
  return new ServerError(error.summary, {
    status: error.status,
    serverMessage: error.serverMessage,
    chatId: id,
    cause: error,
    hint: `Chat ${id} is unknown, already deleted or not this account's (or the server failed): \`oasst chats\` lists your chats and their ids.`,
  });
}
