/**
 * The examples in README.md and docs/*.md stay true: every `oasst …` command line in a shell
 * block parses (known command, known flags, valid values), and the TypeScript blocks of the
 * library docs type-check against src/.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { CommanderError, type Command } from "commander";
import { describe, expect, it } from "vitest";
import { createProgram } from "../../src/cli/program.js";
import { inProcessContext } from "../helpers/in-process-cli.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DOCS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];
/** Lines the docs show failing on purpose (with the error they print). */
const MEANT_TO_FAIL = new Set(["oasst emulate --port abc", "oasst chat --temperature warm Hi"]);

interface Block {
  file: string;
  line: number;
  lang: string;
  text: string;
}

function codeBlocks(file: string): Block[] {
  const blocks: Block[] = [];
  let open: Block | undefined;
  readFileSync(join(ROOT, file), "utf8")
    .split("\n")
    .forEach((text, index) => {
      if (text.startsWith("```")) {
        if (open) blocks.push(open);
        open = open ? undefined : { file, line: index + 1, lang: text.slice(3).trim(), text: "" };
      } else if (open) {
        open.text += `${text}\n`;
      }
    });
  return blocks;
}

/** A shell line's words, quotes removed; operators (`|`, `&&`, `;`, `&`, `>`) as their own words; a `#` comment dropped. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (char === "'" || char === '"') {
      const end = line.indexOf(char, i + 1);
      word = (word ?? "") + line.slice(i + 1, end === -1 ? line.length : end);
      i = end === -1 ? line.length : end;
    } else if (char === " " || char === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === "#" && word === undefined) {
      break;
    } else if ("|&;>".includes(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      words.push(char);
    } else {
      word = (word ?? "") + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The arguments of each `oasst` (or `npx oasst`) command of the line, after any `NAME=value` prefixes. */
function oasstCommands(line: string): string[][] {
  const commands: string[][] = [];
  let segment: string[] = [];
  const flush = () => {
    let words = segment;
    while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) words = words.slice(1);
    if (words[0] === "npx") words = words.slice(1);
    if (words[0] === "oasst") commands.push(words.slice(1));
    segment = [];
  };
  const words = shellWords(line);
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word === ">") i++;
    else if ("|&;".includes(word)) flush();
    else segment.push(word);
  }
  flush();
  return commands;
}

interface Example {
  where: string;
  args: string[];
}

function commandExamples(): Example[] {
  const examples: Example[] = [];
  for (const file of DOCS) {
    for (const block of codeBlocks(file)) {
      if (!["sh", "bash", "shell", "console"].includes(block.lang)) continue;
      block.text.split("\n").forEach((text, index) => {
        // In a console block only the `$` lines are commands; the rest is their output.
        if (block.lang === "console" && !text.startsWith("$ ")) return;
        const line = text.replace(/^\$ /, "");
        for (const args of oasstCommands(line)) examples.push({ where: `${file}:${block.line + 1 + index}`, args });
      });
    }
  }
  return examples;
}

function everyCommand(command: Command, visit: (command: Command) => void): void {
  visit(command);
  for (const sub of command.commands) everyCommand(sub, visit);
}

/** Parses like the CLI, without running any action or printing: undefined when fine, else commander's message. */
async function parseError(args: string[]): Promise<string | undefined> {
  const program = createProgram(inProcessContext({ env: {}, homeDir: "/nonexistent" }).context);
  let output = "";
  everyCommand(program, (command) => {
    command.exitOverride();
    command.configureOutput({ writeOut: () => undefined, writeErr: (text) => (output += text) });
    if (command !== program) command.action(() => undefined);
  });
  try {
    await program.parseAsync(args, { from: "user" });
    return undefined;
  } catch (error) {
    if (error instanceof CommanderError && (error.code === "commander.helpDisplayed" || error.code === "commander.version")) return undefined;
    // Commander's own errors, or a flag's value parser's (ConfigError).
    return output.trim() || (error instanceof Error ? error.message : String(error));
  }
}

describe("the docs' oasst command lines", () => {
  const examples = commandExamples();

  it("finds them", () => {
    expect(examples.length).toBeGreaterThan(50);
  });

  it("parse with the CLI's commands and flags", async () => {
    const failures: string[] = [];
    for (const { where, args } of examples) {
      const error = await parseError(args);
      const meantToFail = MEANT_TO_FAIL.has(["oasst", ...args].join(" "));
      if (meantToFail && !error) failures.push(`${where}: oasst ${args.join(" ")}: meant to fail, but parses`);
      if (!meantToFail && error) failures.push(`${where}: oasst ${args.join(" ")}: ${error}`);
    }
    expect(failures).toEqual([]);
  });
});

const run = promisify(execFile);

describe("the docs' TypeScript blocks", () => {
  // About a second of tsc (TypeScript 7, the native compiler) on an idle machine; more on a loaded one.
  it("type-check against src/", { timeout: 60_000 }, async () => {
    const blocks = ["README.md", "docs/ai-sdk.md", "docs/conversations.md"].flatMap((file) =>
      codeBlocks(file).filter((block) => block.lang === "ts" || block.lang === "typescript"),
    );
    expect(blocks.length).toBeGreaterThan(4);
    // Under node_modules: the package's own dependencies resolve, lint and the project's type-check skip it, and the
    // fixed place keeps tsc's incremental cache between runs.
    const dir = join(ROOT, "node_modules/.cache/oasst-doc-examples");
    rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    mkdirSync(dir, { recursive: true });
    const files = blocks.map((block) => {
      const name = `${block.file.replace(/\W/g, "_")}-line-${block.line}.ts`;
      // Each block is a module of its own (top-level await, no clashing names).
      writeFileSync(join(dir, name), `${block.text}export {};\n`);
      return name;
    });
    const paths = { oasst: [join(ROOT, "src/index.ts")], "oasst/*": [join(ROOT, "src/*/index.ts")] };
    const compilerOptions = { noEmit: true, paths, incremental: true, tsBuildInfoFile: join(ROOT, "node_modules/.cache/oasst-doc-examples.tsbuildinfo") };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: join(ROOT, "tsconfig.json"), compilerOptions, files, include: [] }));
    const tsc = join(ROOT, "node_modules/typescript-7/bin/tsc");
    const result = await run(process.execPath, [tsc, "-p", dir, "--pretty", "false"]).catch((error: { stdout?: string }) => error);
    // Each error names its file: the doc and the block's first line.
    expect(result.stdout ?? "").toBe("");
  });
});
