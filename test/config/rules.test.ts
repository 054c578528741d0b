import { describe, expect, it } from 'vitest';
import type { CrossKeyRule } from '../../src/config/rules.js';
import { actor } from '../helpers/db.js';
import { freshBot, freshService } from '../helpers/fresh.js';

const admin = actor();

describe('cross-key rules', () => {
  it('the shipped rule refuses a buffer that would push the export past midnight, naming both keys, and audits it', async () => {
    const { svc } = await freshService('rules_set');
    await svc.set('DAILY_EXPORT_TIME', '22:00', admin);
    await expect(svc.set('IMMEDIATE_EXPORT_BUFFER', '120', admin)).rejects.toMatchObject({
      code: 'RULE_VIOLATION',
      message: expect.stringMatching(
        /^DAILY_EXPORT_TIME 22:00 with IMMEDIATE_EXPORT_BUFFER 120.*must end before midnight.*Nothing was changed\.$/,
      ),
    });
    expect(svc.get('IMMEDIATE_EXPORT_BUFFER')).toBe(30);
    const [row] = await svc.auditLog({ key: 'IMMEDIATE_EXPORT_BUFFER', status: 'failed' });
    expect(row?.error).toMatch(/must end before midnight/);
    // The other side of the same rule, and a value that keeps it.
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '90', admin);
    await expect(svc.set('DAILY_EXPORT_TIME', '22:00', admin)).rejects.toMatchObject({ code: 'UNCHANGED' });
    await svc.set('DAILY_EXPORT_TIME', '21:00', admin);
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '120', admin); // 21:00 + 2 h: fine
    await expect(svc.set('DAILY_EXPORT_TIME', '22:00', admin)).rejects.toMatchObject({
      code: 'RULE_VIOLATION',
      message: expect.stringMatching(/^DAILY_EXPORT_TIME 22:00 with IMMEDIATE_EXPORT_BUFFER 120/),
    });
    expect(svc.get('DAILY_EXPORT_TIME')).toBe('21:00');
  });

  it('refuses a rollback (its preview and its confirmation) that would break the rule', async () => {
    const { svc } = await freshService('rules_rollback');
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '120', admin); // v2, fine at 18:00
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '30', admin); // v3
    await svc.set('DAILY_EXPORT_TIME', '22:00', admin);
    await expect(svc.previewRollback('IMMEDIATE_EXPORT_BUFFER', 2, admin)).rejects.toMatchObject({
      code: 'RULE_VIOLATION',
    });
    await expect(
      svc.rollback('IMMEDIATE_EXPORT_BUFFER', 2, admin, undefined, {}, { expectedVersion: 3 }),
    ).rejects.toMatchObject({ code: 'RULE_VIOLATION' });
    expect(svc.cachedVersion('IMMEDIATE_EXPORT_BUFFER')).toBe(3);
    const refused = await svc.auditLog({ key: 'IMMEDIATE_EXPORT_BUFFER', action: 'rollback' });
    expect(refused.map((r) => r.status)).toEqual(['failed', 'failed']);
  });

  it('refuses a reset that would break a declared rule, and lets the write that mends it through', async () => {
    const batchAboveBuffer: CrossKeyRule = {
      name: 'batch above buffer',
      keys: ['MAX_BATCH_SIZE', 'IMMEDIATE_EXPORT_BUFFER'],
      check: (v) =>
        Number(v.MAX_BATCH_SIZE) <= Number(v.IMMEDIATE_EXPORT_BUFFER)
          ? 'the batch size must stay above the buffer'
          : undefined,
    };
    const { svc } = await freshService('rules_reset', { rules: [batchAboveBuffer] });
    await svc.set('MAX_BATCH_SIZE', '500', admin);
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '110', admin);
    await expect(svc.previewReset('MAX_BATCH_SIZE', admin)).rejects.toMatchObject({
      code: 'RULE_VIOLATION',
      message:
        'MAX_BATCH_SIZE 100 with IMMEDIATE_EXPORT_BUFFER 110: the batch size must stay above the buffer. Nothing was changed.',
    });
    await expect(svc.reset('MAX_BATCH_SIZE', admin)).rejects.toMatchObject({ code: 'RULE_VIOLATION' });
    expect(svc.get('MAX_BATCH_SIZE')).toBe(500);
    await svc.set('IMMEDIATE_EXPORT_BUFFER', '20', admin);
    await expect(svc.reset('MAX_BATCH_SIZE', admin)).resolves.toMatchObject({ value: 100 });
  });

  it('in Discord the refusal is one plain reply that names both keys', async () => {
    const { svc, bot } = await freshBot('rules_discord');
    await svc.set('DAILY_EXPORT_TIME', '22:00', admin);
    const [, reply] = await bot.session().run('/config set setting:IMMEDIATE_EXPORT_BUFFER value:120');
    expect(reply?.embeds[0]?.title).toBe('Not done');
    expect(reply?.embeds[0]?.description).toMatch(
      /DAILY\\?_EXPORT\\?_TIME 22:00 with IMMEDIATE\\?_EXPORT\\?_BUFFER 120/,
    );
    expect(svc.get('IMMEDIATE_EXPORT_BUFFER')).toBe(30);
  });
});
