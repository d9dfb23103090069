/**
 * Builds the `oasst` command (dist/cli/main.js) from src/cli/main.ts as one entry file plus a
 * chunk per lazily loaded part (a command's run, the gateway, the emulator). The library
 * entries stay tsc's one file per module; the command is bundled because its start-up is
 * what a user waits for, and Node 20 spends about a millisecond resolving and loading each
 * of the ~70 modules a chat needs. Packages stay external except commander, which every
 * command line parses with.
 */
import { rmSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";
import { build } from "rolldown";

const root = fileURLToPath(new URL("..", import.meta.url));
const outDir = `${root}dist/cli`;

const SITE_CLIENT = /\/src\/(client|provider|sse|accounts|cli)\/|\/src\/cookies\/(secure-cookies|session-cookie)\.ts$/;
const SITE_CLIENT_EXCEPT = /\/src\/cli\/(main|run-[\w-]+|interactive-session|confirm)\.ts$/;

rmSync(outDir, { recursive: true, force: true });
await build({
  input: `${root}src/cli/main.ts`,
  platform: "node",
  tsconfig: `${root}tsconfig.build.json`,
  // Every package but commander is loaded from node_modules, as the library loads it.
  external: (id) => /^[@a-z]/.test(id) && !id.startsWith("commander"),
  output: {
    dir: outDir,
    format: "esm",
    entryFileNames: "main.js",
    chunkFileNames: "chunks/[name]-[hash].js",
    // Error classes take their name from the class (src/errors.ts: new.target.name).
    keepNames: true,
    // What every command loads at start-up in one chunk, not eleven; the entry itself stays out of it, since
    // its top-level await would hold the lazily loaded chunks that import from the startup chunk.
    // What the commands that talk to the site (chat, models, chats) load after start-up, in one chunk too: the client, the
    // provider and their CLI side. Left out, in chunks of their own: each command's run, the interactive session, and what
    // only some runs load (the browsers' cookie readers, the gateway, the emulator).
    codeSplitting: {
      groups: [
        { name: "startup", tags: ["$initial"], test: (id) => !id.endsWith("main.ts") },
        { name: "site-client", test: (id) => SITE_CLIENT.test(id) && !SITE_CLIENT_EXCEPT.test(id) },
      ],
    },
    sourcemap: true,
  },
  logLevel: "warn",
});
