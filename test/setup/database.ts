import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbedded } from '../../src/storage/embedded.js';
import { env } from '../../src/app/env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    dbKind: string;
  }
}

/**
 * One real database server for the whole run, chosen in this order: MONGODB_URI; a mongod that
 * mongodb-memory-server finds on this machine; FerretDB (npm run db:ferretdb); finally
 * mongodb-memory-server with a download (a machine with internet). Never a mock.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const e = env();
  if (e.MONGODB_URI) {
    project.provide('mongoUri', e.MONGODB_URI);
    project.provide('dbKind', 'external (MONGODB_URI)');
    return async () => {};
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'config-bot-test-'));
  // The same choice the bot makes for its embedded database.
  const server = await startEmbedded({
    dataDir: dir,
    prefer: e.EMBEDDED_DB,
    ferretdbPath: e.FERRETDB_PATH,
    searchPath: e.PATH,
  });
  process.stderr.write(`[test database] ${server.kind} at ${server.uri} (files in ${dir})\n`);
  project.provide('mongoUri', server.uri);
  project.provide('dbKind', server.kind);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
