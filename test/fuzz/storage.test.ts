import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { registry, type RegisteredKey } from '../../src/config/registry.js';
import type { ConfigService } from '../../src/config/service.js';
import { revalidate } from '../../src/config/validate.js';
import { actor, openService, openTestDb, type TestDb } from '../helpers/db.js';
import { hostileString } from './hostile.js';
import { outcome } from '../helpers/outcome.js';

let db: TestDb;
let svc: ConfigService;
beforeAll(async () => {
  db = await openTestDb('fuzz_storage');
  svc = await openService(db);
});
afterAll(async () => {
  await svc.close();
  await db.drop();
});

describe('hostile input through set() against the real database', () => {
  it('never stores an invalid value and always answers with a specific error', async () => {
    const keys = [...registry.keys(), 'max_batch_size', '$where', 'a.b', '__proto__', 'constructor'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...keys),
        hostileString(),
        hostileString(),
        async (key, value, reason) => {
          const r = await outcome(svc.set(key, value, actor(), reason));
          if (!r.ok) {
            expect(r.error.message.length).toBeGreaterThan(15);
            expect(r.error.code).not.toBe('CONFLICT');
          }
        },
      ),
      { numRuns: 300 },
    );
    const m = bindModels(db.conn);
    const stored = [...(await m.SystemConfig.find().lean()), ...(await m.ConfigVersion.find().lean())];
    for (const doc of stored) {
      const def = registry.get(doc.key) as RegisteredKey;
      expect(def).toBeDefined();
      expect(() => revalidate(def, doc.value)).not.toThrow();
    }
    expect(await m.SystemConfig.countDocuments()).toBe(registry.size);
  });
});
