import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/storage/config-models.js';
import { registry } from '../../src/config/registry.js';
import { as, CHANNEL, displayed, HOME_GUILD } from '../helpers/discord.js';
import { actor } from '../helpers/db.js';
import { freshBot } from '../helpers/fresh.js';

const field = (embed: { fields?: { name: string; value: string }[] } | undefined, name: string) =>
  embed?.fields?.find((f) => f.name === name)?.value;

describe('/config view', () => {
  it('shows value, type, default, description, version and last change, ephemeral and mention-free', async () => {
    const { bot } = await freshBot('view');
    const [reply] = await bot.session().run('/config view setting:max_batch_size');
    expect(reply?.kind).toBe('reply');
    expect(reply?.flags).toBe(64);
    expect(reply?.allowedMentions).toEqual({ parse: [] });
    const embed = reply?.embeds[0];
    expect(embed?.title).toBe('MAX_BATCH_SIZE');
    expect(embed?.description).toMatch(/rows processed/);
    expect(field(embed, 'Value')).toBe('100');
    expect(field(embed, 'Default')).toBe('100');
    expect(field(embed, 'Version')).toBe('1');
    expect(field(embed, 'Type')).toBe('integer 1-1000');
    expect(field(embed, 'Last changed')).toMatch(/^<t:\d+:f> \(<t:\d+:R>\) by system$/);
  });

  it('answers an unknown key with a suggestion', async () => {
    const { bot } = await freshBot('view_unknown');
    const [reply] = await bot.session().run('/config view setting:MAX_BATCH');
    expect(displayed(reply?.embeds[0]?.description)).toBe(
      'Unknown setting MAX_BATCH. Did you mean MAX_BATCH_SIZE?',
    );
  });

  it('shows an unset sensitive key as not set', async () => {
    const { bot } = await freshBot('view_unset');
    const [reply] = await bot.session().run('/config view setting:EXPORT_WEBHOOK_URL');
    expect(field(reply?.embeds[0], 'Value')).toBe('(not set)');
  });
});

describe('/config set', () => {
  it('defers first, then shows old and new value and version, and stores it with who and where', async () => {
    const { db, svc, bot } = await freshBot('set');
    const replies = await bot
      .session()
      .run('/config set setting:MAX_BATCH_SIZE value:250 reason:"bigger batches"');
    expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
    expect(replies[0]?.flags).toBe(64);
    const embed = replies[1]?.embeds[0];
    expect(embed?.title).toBe('Updated MAX_BATCH_SIZE');
    expect(field(embed, 'Old value')).toBe('100');
    expect(field(embed, 'New value')).toBe('250');
    expect(field(embed, 'Version')).toBe('1 → 2');
    expect(svc.get('MAX_BATCH_SIZE')).toBe(250);
    const audit = await bindModels(db.conn)
      .ConfigAudit.findOne({ key: 'MAX_BATCH_SIZE', action: 'set' })
      .lean();
    expect(audit).toMatchObject({
      status: 'success',
      actor: { id: as.admin().user.id, tag: 'admin' },
      guildId: HOME_GUILD,
      channelId: CHANNEL,
      reason: 'bigger batches',
    });
  });

  it('shows warnings for soft limits', async () => {
    const { bot } = await freshBot('set_warn');
    const [, reply] = await bot.session().run('/config set setting:DAILY_EXPORT_TIME value:10:00');
    expect(field(reply?.embeds[0], '⚠️ Warning')).toMatch(/business hours/);
  });

  it('refuses a bad value saying what is wrong and what is allowed, and keeps the old value', async () => {
    const { svc, bot } = await freshBot('set_bad');
    const replies = await bot.session().run('/config set setting:MAX_BATCH_SIZE value:12abc');
    expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
    expect(replies[1]?.embeds[0]?.title).toBe('Not done');
    expect(displayed(replies[1]?.embeds[0]?.description)).toMatch(
      /not a whole number.*Allowed: integer 1-1000/,
    );
    expect(svc.get('MAX_BATCH_SIZE')).toBe(100);
  });

  it('shows the real allowed range of AI_CONFIDENCE_THRESHOLD when refusing 0.49', async () => {
    const { bot } = await freshBot('set_threshold');
    const [, reply] = await bot.session().run('/config set setting:AI_CONFIDENCE_THRESHOLD value:0.49');
    expect(displayed(reply?.embeds[0]?.description)).toMatch(/got 0\.49\. Allowed: number 0\.5-1\.$/);
  });
});

describe('hostile input in replies', () => {
  const HOSTILE = [
    '@everyone',
    '<@&123456789012345678>',
    '<@100000000000000002>',
    '**bold** __under__ ~~strike~~ `code`',
    '[click](https://evil.example)',
    '<t:0:R>',
    '# heading',
    'abc\u202Etxt.exe',
  ];

  it('escapes what the user typed in every refusal: it shows as typed and can neither format nor mention', async () => {
    const { bot } = await freshBot('hostile_errors');
    const s = bot.session();
    for (const text of HOSTILE) {
      for (const line of [
        `/config set setting:MAX_BATCH_SIZE value:"${text}"`,
        `/config set setting:SCHEDULE_TIMEZONE value:"${text}"`,
        `/config view setting:"${text}"`,
      ]) {
        const replies = await s.run(line);
        const description = replies.at(-1)?.embeds[0]?.description ?? '';
        expect(description, line).not.toMatch(/(^|[^\\])\*\*|(^|[^\\])__|(^|[^\\])~~|(^|[^\\])`/);
        expect(description, line).not.toMatch(/<[@#:&t!]/i);
        expect(description, line).not.toMatch(/(^|[^\u200b])@everyone/);
        expect(description, line).not.toMatch(/(^|[^\\])\[click\]\(/);
        expect(description, line).not.toContain('\u202E');
        expect(replies.at(-1)?.allowedMentions, line).toEqual({ parse: [] });
      }
    }
  });

  it('lists versions newest first with action, change, who, when and reason, escaping markdown, mentions and hidden characters', async () => {
    const { bot } = await freshBot('hostile_history');
    await bot
      .session()
      .run(
        '/config set setting:IMMEDIATE_EXPORT_BUFFER value:45 reason:"**urgent** @everyone <@&123456789012345678> a\u202Eb"',
      );
    const replies = await bot.session().run('/config history setting:IMMEDIATE_EXPORT_BUFFER');
    expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
    const embed = replies[1]?.embeds[0];
    expect(embed?.title).toBe('History of IMMEDIATE_EXPORT_BUFFER');
    expect(embed?.fields?.map((f) => f.name)).toEqual(['v2 · set', 'v1 · init']);
    const v2 = embed?.fields?.[0]?.value ?? '';
    expect(v2).toMatch(/^30 → 45\n<@100000000000000001> \(admin\) · <t:\d+:f>/);
    expect(v2).toContain('\\*\\*urgent\\*\\*');
    expect(v2).toContain('@\u200beveryone');
    expect(v2).toContain('<\u200b@&123456789012345678>');
    expect(v2).toContain('a[U+202E]b');
    expect(replies[1]?.allowedMentions).toEqual({ parse: [] });
  });
});

describe('/config history paging', () => {
  it('reaches every version with Older and Newer buttons, disabled at either end', async () => {
    const { svc, bot } = await freshBot('history_pages');
    for (let i = 1; i <= 11; i++) await svc.set('MAX_BATCH_SIZE', String(100 + i), actor());
    const s = bot.session();
    const versionsOf = (r: { embeds: { fields?: { name: string }[] }[] } | undefined) =>
      (r?.embeds[0]?.fields ?? []).map((f) => Number(/^v(\d+)/.exec(f.name)?.[1]));
    const buttons = (r: { components: unknown[] } | undefined) => JSON.stringify(r?.components ?? []);

    const [, first] = await s.run('/config history setting:MAX_BATCH_SIZE limit:5');
    expect(versionsOf(first)).toEqual([12, 11, 10, 9, 8]);
    expect(first?.embeds[0]?.footer?.text).toBe('Versions 12-8 of 12, newest first');
    expect(buttons(first)).toMatch(/"label":"Newer"[^}]*"disabled":true|"disabled":true[^}]*"label":"Newer"/);
    const older = await s.press('Older');
    expect(versionsOf(older.at(-1))).toEqual([7, 6, 5, 4, 3]);
    const oldest = await s.press('Older');
    expect(versionsOf(oldest.at(-1))).toEqual([2, 1]);
    expect(buttons(oldest.at(-1))).toMatch(
      /"label":"Older"[^}]*"disabled":true|"disabled":true[^}]*"label":"Older"/,
    );
    const newer = await s.press('Newer');
    expect(versionsOf(newer.at(-1))).toEqual([7, 6, 5, 4, 3]);
  });

  it('has no buttons when every version fits one page', async () => {
    const { bot } = await freshBot('history_one_page');
    const [, reply] = await bot.session().run('/config history setting:LOG_LEVEL');
    expect(reply?.components).toEqual([]);
  });
});

describe('/config list', () => {
  it('groups settings by category and marks changed ones', async () => {
    const { svc, bot } = await freshBot('list');
    await svc.set('MAX_BATCH_SIZE', '250', actor());
    const [reply] = await bot.session().run('/config list');
    const names = reply?.embeds[0]?.fields?.map((f) => f.name) ?? [];
    expect(names[0]).toMatch(/^ai · AI_CONFIDENCE_THRESHOLD/);
    expect(names).toContain('export · MAX_BATCH_SIZE ✎');
    expect(names.at(-1)).toMatch(/^system · /);
    expect(reply?.components).toEqual([]);
  });

  it('filters by category', async () => {
    const { bot } = await freshBot('list_category');
    const [reply] = await bot.session().run('/config list category:system');
    expect(reply?.embeds[0]?.fields?.map((f) => f.name.replace(/ ✎$/, ''))).toEqual([
      'system · LOG_LEVEL',
      'system · MAINTENANCE_MODE',
      'system · SCHEDULE_TIMEZONE',
    ]);
  });
});

describe('autocomplete', () => {
  it('suggests keys by name or description', async () => {
    const { bot } = await freshBot('complete_keys');
    const byName = await bot.session().complete('/config view setting:batch');
    expect(byName.map((c) => c.value)).toEqual(['MAX_BATCH_SIZE']);
    const byDescription = await bot.session().complete('/config view setting:"time zone"');
    expect(byDescription.map((c) => c.value)).toContain('SCHEDULE_TIMEZONE');
    const all = await bot.session().complete('/config view setting:');
    expect(all).toHaveLength(registry.size);
    expect(all.every((c) => c.name.length <= 100)).toBe(true);
  });

  it("suggests a key's recent versions with a preview of their value", async () => {
    const { svc, bot } = await freshBot('complete_versions');
    await svc.set('MAX_BATCH_SIZE', '250', actor());
    const choices = await bot.session().complete('/config rollback setting:MAX_BATCH_SIZE version:');
    expect(choices.map((c) => c.value)).toEqual([2, 1]);
    expect(choices[0]?.name).toMatch(/^v2 · set · 250 · \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
  });

  it('suggests the allowed values of enum and boolean keys', async () => {
    const { bot } = await freshBot('complete_values');
    const choices = await bot.session().complete('/config set setting:LOG_LEVEL value:');
    expect(choices.map((c) => c.value)).toEqual(['error', 'warn', 'info', 'debug']);
  });

  it('suggests nothing to a foreign guild', async () => {
    const { bot } = await freshBot('complete_foreign');
    expect(await bot.session(as.foreignAdmin()).complete('/config view setting:')).toEqual([]);
  });
});
