/**
 * The HTTP API without Discord: npm run api
 *
 * Starts the configuration core, cross-process sync and the jobs (like the bot), and serves the
 * API on HTTP_HOST:HTTP_PORT (default 127.0.0.1:8080), for deployments that run the API in
 * processes of their own and for trying it without a Discord token. The database is MONGODB_URI,
 * or the embedded one like the console. Create a token with the console:
 *   npm run console -- "/config token create name:local access:read"
 */
import { startApi } from '../src/app/api.js';
import { atExit, runEntryPoint } from '../src/app/cli.js';
import { startRuntime } from '../src/app/runtime.js';

runEntryPoint(
  async (e) => {
    const runtime = await startRuntime(e, { jobs: true, report: 'api' });
    const http = await startApi(runtime, e, e.HTTP_PORT ?? 8080);
    atExit(() => http.close());
    // Runs until a signal: the entry point's handler stops the server and the runtime.
    await new Promise<never>(() => undefined);
  },
  { signalExitCode: 0 },
);
