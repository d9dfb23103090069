import { defineConfig } from "vitest/config";

// `npm run test:real`: the package against the real Open-Assistant stack (../shared/realstack, or
// OASST_REALSTACK_DIR). test/real/global-setup.ts sets the stack up, starts it and stops it;
// OASST_REALSTACK_RUNNING=1 reuses a stack already started with start.sh. One worker, one file at a
// time: every file talks to the same stack, whose one fake worker serves a few replies at once.
export default defineConfig({
  test: {
    include: ["test/real/**/*.test.ts"],
    globalSetup: ["test/real/global-setup.ts"],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 60_000,
    expect: { poll: { timeout: 10_000 } },
  },
});
