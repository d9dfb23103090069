/** Runs before every test file (vitest.config.ts `setupFiles`): the helpers' clean-up after each test. */
import { afterEach } from "vitest";
import { runAfterEachTest } from "./after-each-test.js";

afterEach(runAfterEachTest);
