#!/usr/bin/env node
import process from "node:process";
import { processContext } from "./cli-context.js";
import { runOasst } from "./program.js";

process.exitCode = await runOasst(process.argv.slice(2), processContext());
