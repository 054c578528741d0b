import {
  ApplicationCommandOptionType,
  type APIApplicationCommandOption,
  type APIInteraction,
  type APIMessage,
  type APIModalInteractionResponseCallbackData,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { onTestFinished } from 'vitest';
import { InstanceStore } from '../../src/changes/instances.js';
import { text } from '../../src/config/kinds.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { buttonsOf } from '../../src/offline/console-session.js';
import type { OfflineDiscord } from '../../src/offline/harness.js';
import { KillAlerts } from '../../src/discord/kill-alerts.js';
import { restNotifier } from '../../src/discord/notifier.js';
import { autocompletePayload, buttonPayload, chatInputPayload } from '../../src/offline/payloads.js';
import { modalSubmitPayload } from '../../src/offline/modal-payloads.js';
import type { CommandLine, Simulated } from '../../src/offline/simulated.js';
import { actor, openService, openTestDb } from '../helpers/db.js';
import { as, CHANNEL, OTHER_GUILD, startBot } from '../helpers/discord.js';

// A bot whose every kind of interaction is ready to be sent at once while its database is down:
// every subcommand and autocompleted option of /config and /flag, every button and form, with the
// things they act on (a token, a snapshot, a change request, a scheduled change, flags, previews
// waiting for Confirm) made while the database was up.

export const APPROVALS = '950000000000000001';
const FLAG = 'outage-a';
const OTHER_FLAG = 'outage-b';
const KILLED_FLAG = 'outage-killed';

/** The shipped keys with AI_CONFIDENCE_THRESHOLD open to guild self-service, and a text edited in a form. */
function outageRegistry() {
  const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
  defs.AI_CONFIDENCE_THRESHOLD = { ...defs.AI_CONFIDENCE_THRESHOLD, guildSelfService: true } as KeyDefinition;
  defs.NOTE = {
    ...text({ max: 1000 }),
    category: 'system',
    description: 'A note',
    default: 'hello',
    sensitive: false,
    requiresRestart: false,
  } as KeyDefinition;
  return buildRegistry(defs);
}

/** One interaction to send during the outage, and what it is (for failure messages). */
export interface Planned {
  what: string;
  payload: () => APIInteraction;
}

/** Values for the options a line needs, by subcommand (`token revoke`) then option name. */
type Samples = Record<string, Record<string, string>>;

/** Starts a bot over a database on `uri` and makes everything the interactions act on. */
export async function outageBot(label: string, uri: string) {
  const db = await openTestDb(label, uri);
  const svc = await openService(db, { registry: outageRegistry(), approvals: { high: 1 } });
  const runtime = {
    instanceId: 'outage-bot',
    startedAt: new Date(),
    database: 'MONGODB_URI',
    instances: new InstanceStore(db.conn, 60_000),
  };
  const bot = await startBot(svc, { approvalChannelId: APPROVALS }, runtime);
  const alerts = new KillAlerts(
    db.conn,
    bot.ctx.flags,
    restNotifier(bot.discord.client.rest),
    CHANNEL,
    'test',
  );
  alerts.start();
  onTestFinished(async () => {
    await alerts.stop();
    await bot.close();
    await svc.close();
    await db.drop();
  });
  const discord = bot.discord;
  const admin = bot.session(as.admin());
  /** The message the last reply of a fresh session created, as Discord shows it. */
  const messageOf = async (line: string, sim: Simulated = as.admin()): Promise<APIMessage> => {
    const s = bot.session(sim);
    await s.run(line);
    const m = s.current();
    if (!m || !buttonsOf(m).length) throw new Error(`${line} left no message with buttons`);
    return m;
  };

  await admin.run('/config set setting:MAX_BATCH_SIZE value:150');
  await admin.run('/config token create name:t1 access:read');
  await admin.run('/config snapshot create name:before');
  await admin.run('/config export');
  const exported = discord.calls.findLast((c) => c.fileData?.length)?.fileData?.[0];
  if (!exported) throw new Error('/config export attached no file');
  const file = await discord.uploads.add('export.json', exported);
  await admin.run('/config set setting:MAX_BATCH_SIZE value:160');
  const asked = await admin.run('/config set setting:AI_CONFIDENCE_THRESHOLD value:0.9');
  const requestId = /CR-[A-Z0-9]{5}/.exec(JSON.stringify(asked))?.[0];
  if (!requestId) throw new Error('the high-impact set made no change request');
  await admin.run('/config set setting:LOG_LEVEL value:debug at:"in 2h"');
  await admin.run(`/flag create name:${FLAG} description:"Outage test" type:ops`);
  await admin.run(`/flag create name:${OTHER_FLAG} description:"Another" type:release`);
  await admin.run(`/flag rollout name:${FLAG} percent:10`);
  await bot.ctx.flags.create(
    { name: KILLED_FLAG, description: 'Killed', type: 'ops', owner: 'ops', enabled: true, environments: [] },
    actor(),
  );
  const from = discord.calls.length;
  await bot.ctx.flags.kill(KILLED_FLAG, '12 errors in 60 s');
  await discord.waitForCall((c) => c.kind === 'channelMessage', from, 5000);
  const alert = [...discord.messages.values()].find((m) => m.content.includes(KILLED_FLAG));
  if (!alert) throw new Error('no automatic-kill alert was posted');

  // Messages whose buttons are pressed during the outage (each confirmation is used once).
  const withFile = { ...as.admin(), files: { 'export.json': file } };
  const messages = [
    await messageOf('/config history setting:MAX_BATCH_SIZE limit:1'),
    await messageOf('/config rollback setting:MAX_BATCH_SIZE version:1'),
    await messageOf('/config reset setting:MAX_BATCH_SIZE'),
    await messageOf('/config pending'),
    await messageOf(`/config request view id:${requestId}`, as.otherAdmin()),
    await messageOf('/config snapshot restore name:before'),
    await messageOf('/config snapshot restore name:before'),
    await messageOf('/config import file:export.json', withFile),
    await messageOf(`/flag rollback name:${FLAG} version:1`),
    await messageOf(`/flag rollback name:${FLAG} version:1`),
    alert,
  ];
  // Forms left open, submitted during the outage: the editor of a text, a rejection's reason.
  const editor = bot.session(as.admin());
  await editor.run('/config set setting:NOTE');
  const rejecter = bot.session(as.otherAdmin());
  await rejecter.pressOn(messages[4] as APIMessage, 'Reject');
  const forms = [editor.currentModal(), rejecter.currentModal()];
  if (forms.some((m) => !m)) throw new Error('a form did not open');
  // What autocomplete has read once, it offers from memory afterwards.
  const remembered = await admin.complete('/config rollback setting:MAX_BATCH_SIZE version:');

  const samples: Samples = {
    '*': {
      setting: 'MAX_BATCH_SIZE',
      value: '170',
      version: '1',
      reason: 'outage',
      id: requestId,
      name: FLAG,
      description: 'x',
      prerequisite: OTHER_FLAG,
      member: as.member().user.id,
      file: 'export.json',
      percent: '50',
    },
    'token create': { name: 't2', access: 'read' },
    'token revoke': { name: 't1' },
    'snapshot create': { name: 'during' },
    'snapshot view': { name: 'before' },
    'snapshot diff': { name: 'before' },
    'snapshot restore': { name: 'before' },
    'request edit': { value: '0.8' },
    create: { name: 'outage-new', type: 'ops' },
  };

  /** Every subcommand of every command, with the options it requires. */
  const commands = (sim: Simulated): Planned[] =>
    linesOf(discord, samples).map(({ def, line }) => ({
      what: describe(line),
      payload: () => chatInputPayload(sim, def, line),
    }));
  /** Every autocompleted option of every subcommand, typed empty. */
  const completions = (sim: Simulated): Planned[] =>
    linesOf(discord, samples).flatMap(({ def, line, params }) =>
      params
        .filter((p) => 'autocomplete' in p && p.autocomplete)
        .map((p) => {
          const typing = { ...line, options: { ...line.options, [p.name]: '' } };
          return {
            what: `${describe(line)} ${p.name}: (autocomplete)`,
            payload: () => autocompletePayload(sim, def, typing, p.name),
          };
        }),
    );
  const presses: Planned[] = messages.flatMap((m) =>
    buttonsOf(m).map((b) => ({
      what: `button ${b.customId}`,
      payload: () => buttonPayload(presser(m), m, b.customId),
    })),
  );
  const submits: Planned[] = forms.map((modal, n) => ({
    what: `form ${modal?.custom_id ?? ''}`,
    payload: () =>
      modalSubmitPayload(
        n === 0 ? as.admin() : as.otherAdmin(),
        modal as APIModalInteractionResponseCallbackData,
        n === 0 ? { value: 'written during the outage' } : { reason: 'not now' },
      ),
  }));
  const def = (name: string) => discord.commands.get(name)?.data.toJSON() as CommandJSON;
  const foreign = as.foreignAdmin();
  const selfService: Planned[] = [
    ['view', { setting: 'AI_CONFIDENCE_THRESHOLD' }],
    ['history', { setting: 'AI_CONFIDENCE_THRESHOLD' }],
  ].map(([sub, options]) => ({
    what: `/config ${String(sub)} by an Administrator of ${OTHER_GUILD} (self-service)`,
    payload: () =>
      chatInputPayload(foreign, def('config'), {
        command: 'config',
        subcommand: sub as string,
        options: options as Record<string, string>,
      }),
  }));
  const extras: Planned[] = [
    ...selfService,
    {
      what: '/config rollback version: (autocomplete, self-service)',
      payload: () =>
        autocompletePayload(
          foreign,
          def('config'),
          {
            command: 'config',
            subcommand: 'rollback',
            options: { setting: 'AI_CONFIDENCE_THRESHOLD', version: '' },
          },
          'version',
        ),
    },
    {
      what: '/config set without a value (opens the editor)',
      payload: () =>
        chatInputPayload(as.admin(), def('config'), {
          command: 'config',
          subcommand: 'set',
          options: { setting: 'NOTE' },
        }),
    },
    {
      what: '/config token list by a member (refused)',
      payload: () =>
        chatInputPayload(as.member(), def('config'), {
          command: 'config',
          group: 'token',
          subcommand: 'list',
          options: {},
        }),
    },
  ];

  return {
    db,
    svc,
    bot,
    remembered,
    /** Everything to send during the outage. */
    planned: (): Planned[] => [
      ...commands(withFile),
      ...completions(as.admin()),
      ...presses,
      ...submits,
      ...extras,
    ],
    /** The button kinds pressed, as `command:kind`. */
    pressedKinds: () =>
      new Set(messages.flatMap((m) => buttonsOf(m).map((b) => b.customId.split(':').slice(0, 2).join(':')))),
  };
}

/** Whoever may press a message's buttons: its author, or another admin for a change request. */
function presser(m: APIMessage): Simulated {
  return buttonsOf(m).some((b) => b.customId.startsWith('config:rq-')) ? as.otherAdmin() : as.admin();
}

type CommandJSON = RESTPostAPIChatInputApplicationCommandsJSONBody;

function describe(line: CommandLine): string {
  return ['/' + line.command, line.group, line.subcommand].filter(Boolean).join(' ');
}

/** Each subcommand of each command, as a line with its required options filled from `samples`. */
function linesOf(discord: OfflineDiscord, samples: Samples) {
  const out: { def: CommandJSON; line: CommandLine; params: readonly APIApplicationCommandOption[] }[] = [];
  for (const command of discord.commands.values()) {
    const def = command.data.toJSON();
    const subs = (def.options ?? []).flatMap((o) =>
      o.type === ApplicationCommandOptionType.SubcommandGroup
        ? (o.options ?? []).map((s) => ({ group: o.name as string | undefined, sub: s }))
        : o.type === ApplicationCommandOptionType.Subcommand
          ? [{ group: undefined, sub: o }]
          : [],
    );
    for (const { group, sub } of subs) {
      const name = group ? `${group} ${sub.name}` : sub.name;
      const params = sub.options ?? [];
      const options: Record<string, string> = {};
      for (const p of params) {
        if (!('required' in p && p.required)) continue;
        options[p.name] = sampleFor(p, { ...(samples['*'] ?? {}), ...(samples[name] ?? {}) });
      }
      out.push({
        def,
        line: { command: def.name, ...(group ? { group } : {}), subcommand: sub.name, options },
        params,
      });
    }
  }
  return out;
}

/** A value Discord would accept for a required option: the sample for its name, else its first choice. */
function sampleFor(p: APIApplicationCommandOption, samples: Record<string, string>): string {
  if ('choices' in p && p.choices?.length) return samples[p.name] ?? String(p.choices[0]?.value);
  if (samples[p.name] !== undefined) return samples[p.name] as string;
  if (p.type === ApplicationCommandOptionType.Boolean) return 'false';
  if (p.type === ApplicationCommandOptionType.Integer || p.type === ApplicationCommandOptionType.Number)
    return String(('min_value' in p ? p.min_value : undefined) ?? 1);
  return 'x';
}
