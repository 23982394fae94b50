// The end-to-end test of the demo page in headless Chromium (npm run test:e2e, after
// npm run build:demo). It needs Debian's chromium at /usr/bin/chromium.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
