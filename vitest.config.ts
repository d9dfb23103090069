import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/.git/**", "test/real/**"], // test/real: npm run test:real
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests start real servers on 127.0.0.1; two workers match the two cores of CI.
    maxWorkers: 2,
    // expect.poll waits for servers and child processes: a loaded CI machine needs more than the 1 s default.
    expect: { poll: { timeout: 5_000 } },
  },
});
