#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerEmulateCommand } from "./commands/emulate.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command("oasst").description("Open-Assistant chat from the command line").version(version);
registerEmulateCommand(program);
await program.parseAsync(process.argv);
