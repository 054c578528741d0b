import { describe, expect, it } from 'vitest';
import { AuditRows } from '../../src/storage/audit-rows.js';
import { encryptingCodec } from '../../src/storage/codec.js';
import { bindModels, type ConfigAuditDoc } from '../../src/storage/config-models.js';
import { actor } from '../helpers/db.js';
import { freshService } from '../helpers/fresh.js';

describe('what a chained row hashes', () => {
  it('an undefined field, which the driver stores as null, verifies intact as read back; an edit of it still shows', async () => {
    const { db, svc } = await freshService('audit_row_content');
    await svc.trail.begin();
    const store = new AuditRows(bindModels(db.conn).ConfigAudit, encryptingCodec(new Set(), []));
    // As a caller might build it: optional fields spread in as undefined, a value with one too.
    const row = {
      key: 'MAX_BATCH_SIZE',
      action: 'set',
      status: 'success',
      actor: actor(),
      reason: undefined,
      oldValue: undefined,
      newValue: { limit: 5, note: undefined },
      createdAt: new Date(),
    } as unknown as ConfigAuditDoc;
    expect(await store.insertOnce('undefined-fields', row)).toBe(true);
    const rows = db.conn.collection('config_audit_logs');
    const stored = await rows.findOne({ _id: 'undefined-fields' as never });
    expect(stored).toMatchObject({ reason: null, oldValue: null, newValue: { limit: 5, note: null } });
    expect(await svc.trail.verify()).toMatchObject({ intact: true, breaks: [] });

    await rows.updateOne({ _id: 'undefined-fields' as never }, { $set: { reason: 'filled in later' } });
    expect((await svc.trail.verify()).breaks).toEqual([
      { kind: 'edited', seq: stored?.seq, id: 'undefined-fields' },
    ]);
  });
});
