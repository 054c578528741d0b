import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigSync } from '../../src/changes/sync.js';
import { supportsChangeStreams } from '../../src/storage/tail-watch.js';
import { actor, openService, openTestDb } from '../helpers/db.js';
import { captureLogs } from '../helpers/logs.js';

describe('following changes with a change stream', () => {
  it('falls back to polling when the server refuses $changeStream, in one warning line, and misses nothing', async (ctx) => {
    const db = await openTestDb('change_stream_fallback');
    onTestFinished(() => db.drop());
    if (await supportsChangeStreams(db.conn)) {
      process.stderr.write(
        'change-stream fallback test SKIPPED: the test server offers change streams, so nothing falls back\n',
      );
      ctx.skip();
    }
    const writer = await openService(db);
    const follower = await openService(db);
    const logs = captureLogs();
    // `on`: tried whatever `hello` says (FerretDB says nothing of a replica set, and refuses it).
    const sync = new ConfigSync(follower, db.conn, { intervalMs: 50, changeStream: 'on' });
    onTestFinished(async () => {
      logs.stop();
      await sync.stop();
      await follower.close();
      await writer.close();
    });
    await sync.start();
    await expect.poll(() => sync.status().mode, { timeout: 10_000 }).toBe('polling');
    await writer.set('MAX_BATCH_SIZE', '777', actor());
    await expect.poll(() => follower.get('MAX_BATCH_SIZE'), { timeout: 5000 }).toBe(777);
    const warned = logs.lines.filter((l) => l.includes('Change stream refused or failed'));
    expect(warned).toHaveLength(1);
    const line = JSON.parse(warned[0] ?? '{}') as { message: string; stack?: string };
    expect(line.message).toMatch(/polling every 50 ms instead$/);
    // One plain line: no stack trace, in the message or beside it.
    expect(line.stack).toBeUndefined();
    expect(line.message).not.toMatch(/\n\s+at /);
    // Levels are colored (error is red); what matters is that none says error.
    const levels = logs.lines.map((l) => (JSON.parse(l) as { level: string }).level);
    expect(levels.filter((l) => l.includes('error'))).toEqual([]);
  });
});
