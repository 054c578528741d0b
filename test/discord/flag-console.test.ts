import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { openTestDb } from '../helpers/db.js';
import { looksLikeStackTrace, runScript } from '../helpers/scripts.js';

/** `npm run console` against a database and DATA_DIR of the test's own. */
async function consoleEnv(label: string) {
  const db = await openTestDb(label);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-flag-console-'));
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

describe('/flag in the offline console', () => {
  it('runs /flag lines like /config ones, confirmation included, and help lists /flag', async () => {
    const { db, env } = await consoleEnv('flag_console');
    const r = await runScript('scripts/console.ts', [], {
      env,
      stdin: [
        '/flag create name:from-console description:"Made in the console" type:ops',
        '/flag on name:from-console',
        'complete "/flag view name:from-"',
        '/flag off name:from-console',
        'press Confirm',
        'help',
        '',
      ].join('\n'),
    });
    expect(r.code).toBe(0);
    expect(looksLikeStackTrace(r.stdout + r.stderr)).toBe(false);
    expect(r.stdout).toMatch(/== Created from-console ==/);
    expect(r.stdout).toMatch(/== Turned on from-console ==[\s\S]*environments: \+production/);
    expect(r.stdout).toMatch(/ {2}from-console {2}— {2}from-console — Made in the console/);
    expect(r.stdout).toMatch(
      /Switch off from-console everywhere \(kill switch\)\?[\s\S]*\[Confirm\] \[Cancel\]/,
    );
    expect(r.stdout).toMatch(/== Turned off from-console ==/);
    expect(r.stdout).toMatch(/\/flag \(feature flags\)/);
    const doc = await bindModels(db.conn).SystemConfig.findOne({ key: 'flag:from-console' }).lean();
    expect(doc).toMatchObject({ version: 3, value: { enabled: false, environments: ['production'] } });
  });
});
