import { describe, expect, it } from 'vitest';
import { bindModels } from '../../src/config/models.js';
import { as, CHANNEL, HOME_GUILD, useBot } from '../helpers/discord.js';

const f = useBot('discord_commands');

const field = (embed: { fields?: { name: string; value: string }[] } | undefined, name: string) =>
  embed?.fields?.find((f) => f.name === name)?.value;

describe('/config view', () => {
  it('shows value, type, default, description, version and last change, ephemeral and mention-free', async () => {
    const [reply] = await f.bot.session().run('/config view setting:max_batch_size');
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
    const [reply] = await f.bot.session().run('/config view setting:MAX_BATCH');
    expect(reply?.embeds[0]?.description).toMatch(
      /Unknown setting MAX_BATCH\. Did you mean MAX_BATCH_SIZE\?/,
    );
  });
});

describe('/config set', () => {
  it('defers first, then shows old and new value and version, and stores it with who and where', async () => {
    const replies = await f.bot
      .session()
      .run('/config set setting:MAX_BATCH_SIZE value:250 reason:"bigger batches"');
    expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
    expect(replies[0]?.flags).toBe(64);
    const embed = replies[1]?.embeds[0];
    expect(embed?.title).toBe('Updated MAX_BATCH_SIZE');
    expect(field(embed, 'Old value')).toBe('100');
    expect(field(embed, 'New value')).toBe('250');
    expect(field(embed, 'Version')).toBe('1 → 2');
    expect(f.svc.get('MAX_BATCH_SIZE')).toBe(250);
    const audit = await bindModels(f.db.conn)
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
    const [, reply] = await f.bot.session().run('/config set setting:DAILY_EXPORT_TIME value:10:00');
    expect(field(reply?.embeds[0], '⚠️ Warning')).toMatch(/business hours/);
  });

  it('refuses a bad value saying what is wrong and what is allowed, and keeps the old value', async () => {
    const replies = await f.bot.session().run('/config set setting:MAX_BATCH_SIZE value:12abc');
    expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
    expect(replies[1]?.embeds[0]?.title).toBe('Not done');
    expect(replies[1]?.embeds[0]?.description).toMatch(/not a whole number.*Allowed: integer 1-1000/);
    expect(f.svc.get('MAX_BATCH_SIZE')).toBe(250);
  });
});

describe('/config history', () => {
  it('lists versions newest first with action, value, who, when and reason, escaping markdown and mentions', async () => {
    await f.bot
      .session()
      .run(
        '/config set setting:IMMEDIATE_EXPORT_BUFFER value:45 reason:"**urgent** @everyone <@&123456789012345678>"',
      );
    const replies = await f.bot.session().run('/config history setting:IMMEDIATE_EXPORT_BUFFER');
    expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
    const embed = replies[1]?.embeds[0];
    expect(embed?.title).toBe('History of IMMEDIATE_EXPORT_BUFFER');
    expect(embed?.fields?.map((f) => f.name)).toEqual(['v2 · set', 'v1 · init']);
    const v2 = embed?.fields?.[0]?.value ?? '';
    expect(v2).toMatch(/^45\n<@100000000000000001> \(admin\) · <t:\d+:f>/);
    expect(v2).toContain('\\*\\*urgent\\*\\*');
    expect(v2).toContain('@\u200beveryone');
    expect(v2).toContain('<\u200b@&123456789012345678>');
    expect(replies[1]?.allowedMentions).toEqual({ parse: [] });
  });
});

describe('/config list', () => {
  it('groups settings by category and marks changed ones', async () => {
    const [reply] = await f.bot.session().run('/config list');
    const names = reply?.embeds[0]?.fields?.map((f) => f.name) ?? [];
    expect(names[0]).toMatch(/^ai · AI_CONFIDENCE_THRESHOLD/);
    expect(names).toContain('export · MAX_BATCH_SIZE ✎');
    expect(names.at(-1)).toMatch(/^system · /);
    expect(reply?.components).toEqual([]);
  });

  it('filters by category', async () => {
    const [reply] = await f.bot.session().run('/config list category:system');
    expect(reply?.embeds[0]?.fields?.map((f) => f.name.replace(/ ✎$/, ''))).toEqual([
      'system · LOG_LEVEL',
      'system · MAINTENANCE_MODE',
      'system · SCHEDULE_TIMEZONE',
    ]);
  });
});

describe('autocomplete', () => {
  it('suggests keys by name or description', async () => {
    const byName = await f.bot.session().complete('/config view setting:batch');
    expect(byName.map((c) => c.value)).toEqual(['MAX_BATCH_SIZE']);
    const byDescription = await f.bot.session().complete('/config view setting:"time zone"');
    expect(byDescription.map((c) => c.value)).toContain('SCHEDULE_TIMEZONE');
    const all = await f.bot.session().complete('/config view setting:');
    expect(all).toHaveLength(7);
    expect(all.every((c) => c.name.length <= 100)).toBe(true);
  });

  it("suggests a key's recent versions with a preview of their value", async () => {
    const choices = await f.bot.session().complete('/config rollback setting:MAX_BATCH_SIZE version:');
    expect(choices.map((c) => c.value)).toEqual([2, 1]);
    expect(choices[0]?.name).toMatch(/^v2 · set · 250 · \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
  });

  it('suggests the allowed values of enum and boolean keys', async () => {
    const choices = await f.bot.session().complete('/config set setting:LOG_LEVEL value:');
    expect(choices.map((c) => c.value)).toEqual(['error', 'warn', 'info', 'debug']);
  });

  it('suggests nothing to a foreign guild', async () => {
    expect(await f.bot.session(as.foreignAdmin()).complete('/config view setting:')).toEqual([]);
  });
});
