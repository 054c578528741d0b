import { describe, expect, it } from 'vitest';
import { as, displayed, HOME_GUILD, useBot } from '../helpers/discord.js';

const f = useBot('discord_scopes');

const field = (
  reply: { embeds: { fields?: { name: string; value: string }[] }[] } | undefined,
  name: string,
) => displayed(reply?.embeds[0]?.fields?.find((x) => x.name === name)?.value);

describe('/config with scope', () => {
  it('sets an override per environment and per server, and view explains where the value comes from', async () => {
    const s = f.bot.session(as.admin());
    const [, env] = await s.run('/config set setting:AI_CONFIDENCE_THRESHOLD value:0.8 scope:env:production');
    expect(displayed(env?.embeds[0]?.title)).toBe('Updated AI_CONFIDENCE_THRESHOLD at env:production');
    const [, guild] = await s.run(
      `/config set setting:AI_CONFIDENCE_THRESHOLD value:0.9 scope:guild:${HOME_GUILD}`,
    );
    expect(displayed(guild?.embeds[0]?.title)).toBe(`Updated AI_CONFIDENCE_THRESHOLD at guild:${HOME_GUILD}`);
    expect(f.svc.get('AI_CONFIDENCE_THRESHOLD', { guildId: HOME_GUILD })).toBe(0.9);

    const [view] = await s.run('/config view setting:AI_CONFIDENCE_THRESHOLD');
    expect(field(view, 'Value')).toBe('0.9');
    expect(field(view, 'Where the value comes from').split('\n')).toEqual([
      `➜ guild:${HOME_GUILD} v1: 0.9`,
      '· env:production v1: 0.8',
      '· global v1: 0.85',
      '· default: 0.85',
    ]);
    const [layer] = await s.run('/config view setting:AI_CONFIDENCE_THRESHOLD scope:env:production');
    expect(displayed(layer?.embeds[0]?.title)).toBe('AI_CONFIDENCE_THRESHOLD · env:production');
    expect(field(layer, 'Value')).toBe('0.8');

    const [list] = await s.run('/config list category:ai');
    expect(JSON.stringify(list?.embeds[0]?.fields)).toMatch(/AI_CONFIDENCE_THRESHOLD ✎? ?\(\+2 overrides\)/);

    const versions = await s.complete(
      '/config rollback setting:AI_CONFIDENCE_THRESHOLD scope:env:production version:',
    );
    expect(versions.map((c) => c.value)).toEqual([1]);
    expect(versions[0]?.name).toMatch(/^v1 · set · 0\.8 · /);
    const choices = await s.complete('/config set setting:AI_CONFIDENCE_THRESHOLD scope:');
    expect(choices.map((c) => c.value)).toEqual(['global', 'env:production', `guild:${HOME_GUILD}`]);
    expect(choices.map((c) => c.name)).toContain('env:production (has an override)');
  });

  it('a reset at a scope asks to remove the override, and then the key inherits', async () => {
    const s = f.bot.session(as.admin());
    await s.run('/config set setting:MAX_BATCH_SIZE value:250 scope:env:production');
    const prompt = (await s.run('/config reset setting:MAX_BATCH_SIZE scope:env:production')).at(-1);
    expect(displayed(prompt?.embeds[0]?.title)).toBe(
      'Remove the override of MAX_BATCH_SIZE at env:production? It then inherits.',
    );
    const done = (await s.press('Confirm')).at(-1);
    expect(displayed(done?.embeds[0]?.title)).toBe(
      'Removed the override of MAX_BATCH_SIZE at env:production',
    );
    expect(f.svc.get('MAX_BATCH_SIZE')).toBe(100);
    const history = (await s.run('/config history setting:MAX_BATCH_SIZE scope:env:production')).at(-1);
    expect(displayed(history?.embeds[0]?.title)).toBe('History of MAX_BATCH_SIZE · env:production');
  });

  it('refuses a scope the key does not allow, saying which it allows', async () => {
    const [, reply] = await f.bot
      .session(as.admin())
      .run(`/config set setting:LOG_LEVEL value:debug scope:guild:${HOME_GUILD}`);
    expect(displayed(reply?.embeds[0]?.description)).toBe(
      'LOG_LEVEL cannot be set per server: it allows global, env:<name>.',
    );
    expect(f.svc.get('LOG_LEVEL')).toBe('info');
  });
});
