import { ApplicationCommandOptionType, SlashCommandBuilder } from 'discord.js';
import { describe, expect, it } from 'vitest';
import * as configCommand from '../../commands/config/index.js';
import { bindModels } from '../../src/storage/config-models.js';
import { ConsoleSession } from '../../src/offline/console-session.js';
import { OfflineDiscord } from '../../src/offline/harness.js';
import { loadCommands, requirementGaps, subcommandsOf } from '../../src/discord/loader.js';
import type { Command } from '../../src/discord/types.js';
import { APP_ID, as, useBot } from '../helpers/discord.js';

const f = useBot('discord_requirements');

/** A line that runs `sub` (`token create`: a subcommand of a group) with every required option given a plausible value. */
function lineFor(sub: string): string {
  const json = configCommand.data.toJSON();
  const [first, second] = sub.split(' ');
  let def = json.options?.find((o) => o.name === first);
  if (second && def?.type === ApplicationCommandOptionType.SubcommandGroup)
    def = def.options?.find((o) => o.name === second);
  const options = def && def.type === ApplicationCommandOptionType.Subcommand ? (def.options ?? []) : [];
  const parts = options
    .filter((o) => o.required)
    .map((o) => {
      if (o.name === 'setting') return 'setting:MAX_BATCH_SIZE';
      if (o.type === ApplicationCommandOptionType.Integer) return `${o.name}:1`;
      if (o.type === ApplicationCommandOptionType.Attachment) return `${o.name}:config.json`;
      if (o.type === ApplicationCommandOptionType.String && o.choices?.[0])
        return `${o.name}:${o.choices[0].value}`;
      return `${o.name}:5`;
    });
  return ['/config', sub, ...parts].join(' ');
}

const deniedActions = async (userId: string) =>
  (await bindModels(f.db.conn).ConfigAudit.find({ status: 'denied', 'actor.id': userId }).lean())
    .map((r) => r.action)
    .sort();

describe('requirements declared once per subcommand', () => {
  it('every subcommand the builder defines has a declaration, and none is declared that does not exist', async () => {
    const subs = subcommandsOf(configCommand);
    expect(subs.length).toBeGreaterThanOrEqual(7);
    expect(Object.keys(configCommand.requires).sort()).toEqual([...subs].sort());
    for (const command of (await loadCommands()).values()) expect(requirementGaps(command)).toBeUndefined();
  });

  it('the loader refuses a command with a subcommand that declares nothing, naming it', () => {
    const { status: _status, ...withoutStatus } = configCommand.requires;
    expect(requirementGaps({ data: configCommand.data, requires: withoutStatus })).toBe(
      'no access requirement declared for /config status',
    );
    expect(
      requirementGaps({
        data: configCommand.data,
        requires: { ...configCommand.requires, purge: configCommand.requires.set },
      }),
    ).toMatch(/do not exist: \/config purge/);
  });

  it('names a subcommand of a group with its group, so it needs its own declaration', () => {
    const grouped = new SlashCommandBuilder()
      .setName('grouped')
      .setDescription('has a group')
      .addSubcommand((s) => s.setName('list').setDescription('top-level'))
      .addSubcommandGroup((g) =>
        g
          .setName('token')
          .setDescription('a group')
          .addSubcommand((s) => s.setName('list').setDescription('in the group')),
      );
    expect(subcommandsOf({ data: grouped })).toEqual(['list', 'token list']);
    expect(subcommandsOf(configCommand)).toEqual(
      expect.arrayContaining(['list', 'token create', 'token list', 'token revoke']),
    );
    const read = { access: 'read', audit: 'list' } as const;
    // The top-level `list` declared does not cover `token list`.
    expect(requirementGaps({ data: grouped, requires: { list: read } })).toBe(
      'no access requirement declared for /grouped token list',
    );
    expect(requirementGaps({ data: grouped, requires: { list: read, 'token list': read } })).toBeUndefined();
    expect(
      requirementGaps({ data: grouped, requires: { list: read, 'token list': read, 'token purge': read } }),
    ).toMatch(/do not exist: \/grouped token purge/);
  });

  it('a server not on the allowlist is refused every subcommand, each audited as what it was', async () => {
    const file = await f.bot.discord.uploads.add('config.json', '{}');
    const foreign = f.bot.session({ ...as.foreignAdmin(), files: { 'config.json': file } });
    const subs = subcommandsOf(configCommand);
    for (const sub of subs) {
      const [reply] = await foreign.run(lineFor(sub));
      expect(reply?.embeds[0]?.title, sub).toBe('Not allowed');
    }
    // `status` is audited as status (it once was audited as a view).
    expect(await deniedActions(as.foreignAdmin().user.id)).toEqual(
      subs.map((s) => configCommand.requires[s as keyof typeof configCommand.requires].audit).sort(),
    );
    expect(await deniedActions(as.foreignAdmin().user.id)).toContain('status');
  });

  it('a member is refused every write subcommand before anything is acknowledged or counted', async () => {
    const file = await f.bot.discord.uploads.add('config.json', '{}');
    const member = f.bot.session({ ...as.member(), files: { 'config.json': file } });
    const before = f.svc.cachedVersion('MAX_BATCH_SIZE');
    const writes = subcommandsOf(configCommand).filter(
      (s) => configCommand.requires[s as keyof typeof configCommand.requires].access === 'write',
    );
    expect(writes.sort()).toEqual(
      [
        'import',
        'request approve',
        'request edit',
        'request reject',
        'request withdraw',
        'reset',
        'rollback',
        'set',
        'snapshot create',
        'snapshot restore',
        'token create',
        'token list',
        'token revoke',
      ].sort(),
    );
    for (const sub of writes) {
      const replies = await member.run(lineFor(sub));
      expect(
        replies.map((r) => r.kind),
        sub,
      ).toEqual(['reply']);
      expect(replies[0]?.embeds[0]?.title).toBe('Not allowed');
    }
    expect(f.svc.cachedVersion('MAX_BATCH_SIZE')).toBe(before);
    expect(await deniedActions(as.member().user.id)).toEqual(
      writes.map((s) => configCommand.requires[s as keyof typeof configCommand.requires].audit).sort(),
    );
  });

  it('a command run with an undeclared subcommand is refused as an internal error and its handler never runs', async () => {
    let ran = false;
    const sneaky: Command = {
      data: new SlashCommandBuilder()
        .setName('sneaky')
        .setDescription('declares one of two subcommands')
        .addSubcommand((s) => s.setName('open').setDescription('declared'))
        .addSubcommand((s) => s.setName('forgotten').setDescription('not declared')),
      requires: { open: { access: 'read', audit: 'view' } },
      async execute() {
        ran = true;
      },
    };
    const discord = new OfflineDiscord(new Map([['sneaky', sneaky]]), f.bot.ctx, APP_ID);
    try {
      const [reply] = await new ConsoleSession(discord, as.admin()).run('/sneaky forgotten');
      expect(reply?.embeds[0]?.title).toBe('Error');
      expect(reply?.embeds[0]?.description).toMatch(/^Something went wrong on our side/);
      expect(ran).toBe(false);
      await new ConsoleSession(discord, as.admin()).run('/sneaky open');
      expect(ran).toBe(true);
    } finally {
      await discord.destroy();
    }
  });

  it('Confirm needs write access for the change it stands for; once used, anyone allowed is told it is gone', async () => {
    const owner = f.bot.session(as.admin());
    await owner.run('/config set setting:IMMEDIATE_EXPORT_BUFFER value:77');
    await owner.run('/config reset setting:IMMEDIATE_EXPORT_BUFFER');
    const prompt = owner.current();
    if (!prompt) throw new Error('no confirmation prompt');
    // A member of its own, so the other tests' counts of refusals do not depend on this one.
    const bystander = { ...as.member(), user: { id: '100000000000000009', username: 'bystander' } };
    const member = f.bot.session(bystander);
    const [refused] = await member.pressOn(prompt, 'Confirm');
    expect(refused?.embeds[0]?.title).toBe('Not allowed');
    expect(f.svc.get('IMMEDIATE_EXPORT_BUFFER')).toBe(77);
    const rows = await bindModels(f.db.conn).ConfigAudit.find({ 'actor.id': bystander.user.id }).lean();
    expect(rows).toEqual([
      expect.objectContaining({ status: 'denied', key: 'IMMEDIATE_EXPORT_BUFFER', action: 'reset' }),
    ]);

    await owner.press('Confirm');
    expect(f.svc.get('IMMEDIATE_EXPORT_BUFFER')).not.toBe(77);
    const [late] = await member.pressOn(prompt, 'Confirm');
    expect(late?.embeds[0]?.title).toBe('Expired');
  });
});
