import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigService } from '../../src/config/service.js';
import { registry } from '../../src/config/registry.js';
import { DatabaseHealth } from '../../src/storage/health.js';
import { openDatabase } from '../../src/storage/database.js';
import { env, parseEnv } from '../../src/app/env.js';
import { databaseOptions } from '../../src/app/runtime.js';
import { captureLogs } from '../helpers/logs.js';
import { outcome } from '../helpers/outcome.js';

describe('embedded database', () => {
  it('keeps its data in DATA_DIR across restarts and logs which server and where', async (ctx) => {
    // The bot's own environment without MONGODB_URI: it starts its embedded server, whatever
    // server the rest of the suite shares.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-data-'));
    const { FERRETDB_PATH, PATH, EMBEDDED_DB } = env();
    const e = parseEnv({ DATA_DIR: dataDir, FERRETDB_PATH, PATH, EMBEDDED_DB });
    const logs = captureLogs();
    try {
      const first = await openDatabase(databaseOptions(e), new DatabaseHealth());
      if (!first.embedded && first.connectError?.startsWith('no embedded database could be started')) {
        process.stderr.write(`embedded database test SKIPPED: ${first.connectError}\n`);
        await first.close();
        ctx.skip();
      }
      expect(logs.lines.join()).toMatch(
        new RegExp(`Embedded database started: (ferretdb|mongodb-memory-server), data in ${dataDir}`),
      );
      const svc = new ConfigService({ registry, conn: first.conn });
      await svc.init();
      expect((await outcome(svc.set('MAX_BATCH_SIZE', '321', { id: 'x', tag: 'x' }))).ok).toBe(true);
      await svc.close();
      await first.close();

      const second = await openDatabase(databaseOptions(e), new DatabaseHealth());
      const again = new ConfigService({ registry, conn: second.conn });
      await again.init();
      expect(again.get('MAX_BATCH_SIZE')).toBe(321);
      await again.close();
      await second.close();
    } finally {
      logs.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
