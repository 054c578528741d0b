import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    {
      // Workspace packages (@config-bot/client) resolve to their TypeScript sources, so tests need
      // no build first, in every environment Vitest runs code in (test files, and the global setup
      // in the main process); the other conditions are Vite's defaults for Node.
      name: 'workspace-sources',
      configEnvironment: () => ({
        resolve: { conditions: ['config-bot-source', 'module', 'node', 'development|production'] },
      }),
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    // The database server, and one transpile of the sources for the OS processes tests start.
    globalSetup: ['test/setup/database.ts', 'test/setup/script-build.ts'],
    // Each test's log lines and process warnings are shown only when it fails (test/setup/quiet-logs.ts).
    setupFiles: ['test/setup/quiet-logs.ts'],
    // Node would print every process warning to stderr itself; the setup file keeps them instead.
    execArgv: ['--no-warnings'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file uses its own database name, so files run in parallel against one server. Most of
    // a test's time is spent waiting (on the database, on other processes, on timers), so more
    // files than cores run at once: vitest's default (cores - 1) is one file at a time on a
    // 2-core machine, and the suite then takes twice as long.
    fileParallelism: true,
    maxWorkers: 4,
    // A worker's test files share its modules instead of importing them all again (discord.js,
    // mongoose, fastify...: about 2 s per file). Nothing a test file changes is module-wide: each
    // uses its own database, runtime and client, and test/setup/quiet-logs.ts sets the logger
    // up once per worker.
    isolate: false,
    // Processes the tests start (scripts through tsx) resolve the workspace packages the same way.
    env: {
      NODE_ENV: 'test',
      // The processes tests start follow each other every 100 ms rather than the default 55: dozens
      // of them share two cores and one database server here, and no test measures propagation
      // speed (npm run bench does, at the default).
      CONFIG_POLL_INTERVAL_MS: '100',
      NODE_OPTIONS: [process.env.NODE_OPTIONS, '--conditions=config-bot-source'].filter(Boolean).join(' '),
    },
  },
});
