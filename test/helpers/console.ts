import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { actor, openService, openTestDb, type TestDb } from './db.js';
import { runScript, type ScriptRun } from './scripts.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * How long a test that runs scripts (the console, export, deploy-commands...) as several OS
 * processes may take: each one starts Node, compiles the sources through tsx and connects, several
 * seconds on a busy 2-core machine.
 */
export const CONSOLE_TEST_TIMEOUT_MS = 120_000;

/** A database and a DATA_DIR of the calling test's own, removed when it ends. */
export async function ownDb(label: string): Promise<{ db: TestDb; env: Record<string, string> }> {
  const db = await openTestDb(label);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-console-'));
  onTestFinished(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const env = {
    MONGODB_URI: db.uri,
    MONGODB_DB_NAME: db.dbName,
    DATA_DIR: dataDir,
    DISCORD_TOKEN: '',
    DISCORD_GUILD_ID: '',
  };
  return { db, env };
}

/**
 * Stores a value through a ConfigService in this process (the write path the console's handlers
 * call), for a test whose subject is what a console process then does with it: one OS process
 * fewer to start than `consoleRun(env, ['/config set ...'])`.
 */
export async function storeValue(db: TestDb, key: string, value: string): Promise<void> {
  const svc = await openService(db);
  try {
    await svc.set(key, value, actor());
  } finally {
    await svc.close();
  }
}

/**
 * Runs the console as a separate process, from this run's build (test/helpers/scripts.ts): the
 * console as `npm run console` starts it (through tsx) is run by the tests that type into a
 * terminal and run the README's command lines.
 */
export const consoleRun = (env: Record<string, string>, args: string[], stdin?: string) =>
  runScript('scripts/console.ts', args, { env, via: 'build', ...(stdin !== undefined ? { stdin } : {}) });

/** Runs a shell command line from the project root, as a user would type it. */
export function shell(line: string, env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = execFile(
      'sh',
      ['-c', line],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) || 1 : 0, signal: child.signalCode, stdout, stderr }),
    );
  });
}
