import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigService } from '../../src/config/service.js';
import { registry } from '../../src/config/registry.js';
import { openDatabase } from '../../src/db/index.js';
import { env, parseEnv } from '../../src/env.js';
import { captureLogs } from '../helpers/logs.js';

describe('embedded database', () => {
  it('keeps its data in DATA_DIR across restarts and logs which server and where', async (ctx) => {
    if (env().MONGODB_URI) {
      process.stderr.write(
        'embedded database test skipped: MONGODB_URI is set, so the bot would not start one\n',
      );
      ctx.skip();
      return;
    }
    const dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-data-'));
    const e = parseEnv({ DATA_DIR: dataDir, FERRETDB_PATH: env().FERRETDB_PATH, PATH: env().PATH });
    const logs = captureLogs();
    try {
      const first = await openDatabase(e);
      expect(logs.lines.join()).toMatch(
        new RegExp(`Embedded database started: (ferretdb|mongodb-memory-server), data in ${dataDir}`),
      );
      const svc = new ConfigService({ registry, conn: first.conn });
      await svc.init();
      expect((await svc.set('MAX_BATCH_SIZE', '321', { id: 'x', tag: 'x' })).ok).toBe(true);
      await svc.close();
      await first.close();

      const second = await openDatabase(e);
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
