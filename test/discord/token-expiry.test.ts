import { describe, expect, it } from 'vitest';
import { as, displayed, useBot } from '../helpers/discord.js';

const f = useBot('discord_token_expiry');

const TOKEN = /cfgbot_[0-9a-f]{10}_[A-Za-z0-9_-]{43}/;

describe('/config token create expires:', () => {
  it('gives the token a lifetime, shown on create and list, after which the API refuses it', async () => {
    const admin = f.bot.session(as.admin());
    const created = (await admin.run('/config token create name:ci-short access:read expires:12h')).at(-1);
    const fields = Object.fromEntries(
      (created?.embeds[0]?.fields ?? []).map((x) => [displayed(x.name), displayed(x.value)]),
    );
    expect(fields.Expires).toMatch(/^Expires <t:\d+:f>/);
    const token = TOKEN.exec(created?.embeds[0]?.description ?? '')?.[0];
    const record = await f.bot.ctx.tokens.verify(token);
    const hours = ((record?.expiresAt?.getTime() ?? 0) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    const list = (await admin.run('/config token list')).at(-1);
    expect(JSON.stringify(list?.embeds[0]?.fields)).toMatch(/Expires <t:\d+:f>/);
  });

  it('refuses a lifetime out of range or unreadable, creating nothing', async () => {
    const admin = f.bot.session(as.admin());
    for (const [typed, message] of [
      ['30m', /expires: Must be between 1h and 366d/],
      ['400d', /expires: Must be between 1h and 366d/],
      ['soon', /expires: "soon" is not a duration/],
    ] as const) {
      const reply = (await admin.run(`/config token create name:never access:read expires:${typed}`)).at(-1);
      expect(displayed(reply?.embeds[0]?.description), typed).toMatch(message);
    }
    expect((await f.bot.ctx.tokens.list()).map((t) => t.name)).not.toContain('never');
  });
});
