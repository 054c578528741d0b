import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../helpers/scripts.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'config-bot-export-date-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run export -- --date', () => {
  it('refuses a date that does not exist with one plain line saying why, and exit 2, before anything starts', async () => {
    // No database answers there: the date is refused without one.
    const run = (date: string) =>
      runScript('scripts/export.ts', ['--date', date], {
        env: {
          MONGODB_URI: 'mongodb://127.0.0.1:1/',
          DB_TIMEOUT_MS: '500',
          DATA_DIR: dir,
          EXPORT_DIR: dir,
          DISCORD_TOKEN: '',
        },
      });
    const [february, month] = await Promise.all([run('2026-02-30'), run('2026-13-01')]);
    expect(february).toMatchObject({
      code: 2,
      stdout: '',
      stderr: '--date 2026-02-30 is not a calendar date: February 2026 has 28 days\n',
    });
    expect(month).toMatchObject({
      code: 2,
      stdout: '',
      stderr: '--date 2026-13-01 is not a calendar date: there is no month 13\n',
    });
  });
});
