import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // Each file runs in its own process: stacks set process-wide env like a Lambda does.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      NODE_NO_WARNINGS: "1",
      POWERTOOLS_LOG_LEVEL: "ERROR",
      POWERTOOLS_METRICS_DISABLED: "true",
      // The suites share 2 loaded cores: lag shedding is tested on its own, not left to chance.
      ICP_MAX_LAG_MS: "60000",
    },
  },
});
