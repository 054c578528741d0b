import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/database.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file uses its own database name, so files run in parallel against one server.
    fileParallelism: true,
    env: { NODE_ENV: 'test' },
  },
});
