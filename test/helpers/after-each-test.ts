/**
 * Clean-up that a helper module needs after every test of every file that uses it. A helper's
 * own top-level `afterEach` would attach to the first test file only: a worker runs file after
 * file in one module graph (vitest.config.ts, `isolate: false`), so it imports a helper once.
 * test/helpers/setup.ts, which runs before every test file, runs these after each test, the
 * last registered first (as vitest runs hooks).
 */
const hooks: Array<() => unknown> = [];

export function afterEachTest(hook: () => unknown): void {
  hooks.push(hook);
}

export async function runAfterEachTest(): Promise<void> {
  for (const hook of [...hooks].reverse()) await hook();
}
