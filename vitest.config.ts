import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/.git/**", "test/real/**"], // test/real: npm run test:real
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests start real servers on 127.0.0.1 and child processes. Three workers on the two cores of CI: most files spend
    // much of their time waiting (on a child, a socket, a reply's end), and a third worker fills those waits.
    maxWorkers: 3,
    // A worker runs file after file in one module graph: the package is imported twice (once a worker), not once a file.
    // Every file cleans up after itself (servers stopped, spies and stubbed variables restored, process listeners removed).
    isolate: false,
    // So helpers register their clean-up after each test with afterEachTest (test/helpers/after-each-test.ts), not afterEach.
    setupFiles: ["test/helpers/setup.ts"],
    // expect.poll waits for servers and child processes: a loaded CI machine needs more than the 1 s default.
    expect: { poll: { timeout: 5_000 } },
  },
});
