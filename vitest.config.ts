import { defineConfig } from "vitest/config";

// Two projects: fast unit tests (pure functions, real git in temp dirs, no Docker) and
// end-to-end tests that drive the built CLI against a real Docker engine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "cli",
          include: ["test/cli/**/*.test.ts"],
          globalSetup: ["test/helpers/build-dist.ts"],
          setupFiles: ["test/helpers/machine-output-hook.ts"],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts", "test/fixtures/**/*.test.ts"],
          globalSetup: ["test/helpers/global-setup.ts"],
          setupFiles: ["test/helpers/machine-output-hook.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // Docker builds share one daemon and two cores: run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
