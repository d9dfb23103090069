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
    codeSplitting: { groups: [{ name: "startup", tags: ["$initial"], test: (id) => !id.endsWith("main.ts") }] },
    sourcemap: true,
  },
  logLevel: "warn",
});
