import { describe, expect, it } from 'vitest';
import { as, displayed, useBot } from '../helpers/discord.js';

const f = useBot('discord_pending');

const fields = (reply: { embeds: { fields?: { name: string; value: string }[] }[] } | undefined) =>
  Object.fromEntries((reply?.embeds[0]?.fields ?? []).map((x) => [x.name, displayed(x.value)]));

describe('temporary values, scheduled changes and /config pending', () => {
  it('set for: and at:, see them in view and pending, cancel one (audited); members may not', async () => {
    const s = f.bot.session(as.admin());
    const temp = (await s.run('/config set setting:MAX_BATCH_SIZE value:500 for:2h reason:"load test"')).at(
      -1,
    );
    expect(fields(temp).Temporary).toMatch(
      /^Until <t:\d+:f>.*, then 100\. \/config pending lists it, with Cancel\.$/,
    );
    expect(f.svc.get('MAX_BATCH_SIZE')).toBe(500);

    const planned = (await s.run('/config set setting:LOG_LEVEL value:debug at:"in 3h"')).at(-1);
    expect(displayed(planned?.embeds[0]?.title)).toBe('Scheduled LOG_LEVEL');
    expect(fields(planned)['New value']).toBe('debug');
    expect(f.svc.get('LOG_LEVEL')).toBe('info');

    const [view] = await s.run('/config view setting:MAX_BATCH_SIZE');
    expect(fields(view).Pending).toMatch(/^MAX_BATCH_SIZE: temporary until <t:\d+:f>.*, then 100$/);

    const list = (await s.run('/config pending')).at(-1);
    expect(list?.embeds[0]?.fields?.map((x) => displayed(x.value))).toEqual([
      expect.stringMatching(/^LOG_LEVEL: becomes debug at <t:\d+:f>.* \(scheduled by admin\)$/),
      expect.stringMatching(/^MAX_BATCH_SIZE: temporary until/),
    ]);
    expect(list?.components.flatMap((r) => r.components.map((c) => ('label' in c ? c.label : '')))).toEqual([
      'Cancel 1',
      'Cancel 2',
    ]);

    // A member sees the list but cannot cancel.
    const member = f.bot.session(as.member());
    await member.run('/config pending');
    const [refused] = await member.press('Cancel 1');
    expect(refused?.embeds[0]?.title).toBe('Not allowed');

    const after = (await s.press('Cancel 1')).at(-1);
    expect(after?.embeds[0]?.fields?.map((x) => displayed(x.value))).toEqual([
      expect.stringMatching(/^MAX_BATCH_SIZE: temporary until/),
    ]);
    expect(await f.svc.auditLog({ action: 'cancel', status: 'success' })).toEqual([
      expect.objectContaining({
        key: 'LOG_LEVEL',
        status: 'success',
        actor: expect.objectContaining({ tag: 'admin' }),
      }),
    ]);
  });

  it('refuses a for: or at: it cannot read, saying what it expects, and changes nothing', async () => {
    const s = f.bot.session(as.admin());
    const bad = (await s.run('/config set setting:IMMEDIATE_EXPORT_BUFFER value:40 for:forever')).at(-1);
    expect(displayed(bad?.embeds[0]?.description)).toMatch(/^for: "forever" is not a duration/);
    // Out of bounds: which bound, said once.
    const long = (await s.run('/config set setting:IMMEDIATE_EXPORT_BUFFER value:40 for:45d')).at(-1);
    expect(displayed(long?.embeds[0]?.description)).toBe(
      'for: 45d is longer than 30d, the longest a temporary value holds.',
    );
    const late = (await s.run('/config set setting:IMMEDIATE_EXPORT_BUFFER value:40 at:someday')).at(-1);
    expect(displayed(late?.embeds[0]?.description)).toMatch(/^at: "someday" is not a time I can read/);
    expect(f.svc.get('IMMEDIATE_EXPORT_BUFFER')).toBe(30);
  });
});
