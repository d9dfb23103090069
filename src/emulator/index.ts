/** `oasst/emulator`: a local Open-Assistant-compatible server for tests, demos and benchmarks (docs/emulator.md). */
export * from "./emulator.js";
