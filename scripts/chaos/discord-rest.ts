/**
 * The Discord REST faults of `npm run chaos` (issue #25): two bot processes on one database talk
 * to a Discord-shaped REST server on loopback (discord-rest-server.ts) that answers 429 with
 * `retry_after`, 500, or nothing until discord.js gives up, a bounded number of times per request,
 * for replies, approval messages and kill alerts. Under each fault the bots answer /config set,
 * post a change request, approve it and edit its post, and post a flag's automatic kill; then
 * every reply, post and alert must have been delivered once, every acknowledged write stored and
 * audited once, and every retry must have waited the `retry_after` it was given.
 */
import path from 'node:path';
import type { APIInteraction, APIMessage } from 'discord.js';
import { loadCommands } from '../../src/discord/loader.js';
import { parseCommandLine } from '../../src/offline/command-line.js';
import { buttonPayload, chatInputPayload } from '../../src/offline/payloads.js';
import { ADMIN_PERMISSIONS, type Simulated } from '../../src/offline/simulated.js';
import { connect } from '../../src/storage/connection.js';
import type { Command } from '../../src/discord/types.js';
import { chainIntact } from './lib/accounting.js';
import { startPrivateDb, type PrivateDb } from './lib/ferret.js';
import { stackLines } from './lib/procs.js';
import { BotProcess } from './discord-rest-procs.js';
import { DiscordRestServer, type Fault } from './discord-rest-server.js';
import { measureRow, textOf, type Outcome, type DiscordRestResult } from './discord-rest-measure.js';
import type { ChaosContext, Scenario } from './types.js';

export type { DiscordRestResult } from './discord-rest-measure.js';

export const IDS = {
  guild: '900000000000000101',
  channel: '910000000000000101',
  application: '930000000000000101',
  alerts: '940000000000000101',
  approvals: '950000000000000101',
} as const;

const HIGH = 'AI_CONFIDENCE_THRESHOLD';
const DB_NAME = 'chaos_discord_rest';
/** discord.js's REST timeout in the bots: a held request is given up after it and sent again. */
const REST_TIMEOUT_MS = 600;

const user = (id: string, username: string): Simulated => ({
  applicationId: IDS.application,
  guildId: IDS.guild,
  channelId: IDS.channel,
  user: { id, username },
  permissions: ADMIN_PERMISSIONS,
  roles: [],
});
const REQUESTER = user('100000000000000101', 'requester');
const APPROVER = user('100000000000000103', 'approver');

interface Plan {
  fault: Fault;
  name: string;
  /** /config set per bot process. */
  sets: number;
}

/**
 * The faults, each bounded: so many times per request, then the request goes through. The quick
 * version faults the first two requests of each route class (replies, posts, edits) and runs
 * one /config set per bot; the full one faults every request and runs more of them.
 */
function plans(quick: boolean): Plan[] {
  const all = ['callback', 'webhook', 'post', 'edit'] as const;
  // A first response made to wait past Discord's 3 s is lost whatever the bot does: the longer
  // faults leave it out.
  const later = ['webhook', 'post', 'edit'] as const;
  const sets = quick ? 1 : 3;
  const bound = quick ? { perClass: 2 } : {};
  const plan = (name: string, fault: Omit<Fault, 'classes'>, classes: Fault['classes'] = all): Plan => ({
    name,
    fault: { classes, ...bound, ...fault },
    sets,
  });
  const timeout = `Discord REST timeout (no answer within ${REST_TIMEOUT_MS} ms)`;
  return [
    plan('Discord REST 429 with retry_after 0.4 s', { mode: '429', perRequest: 1, retryAfterS: 0.4 }),
    plan('Discord REST 500, twice per request', { mode: '500', perRequest: 2 }),
    ...(quick
      ? [
          plan(`${timeout}, every second one after Discord acted`, {
            mode: 'timeout',
            acted: 'alternate',
            perRequest: 1,
          }),
        ]
      : [
          plan(`${timeout}, Discord never acted`, { mode: 'timeout', perRequest: 1 }),
          plan(`${timeout}, after Discord acted`, { mode: 'timeout', acted: 'always', perRequest: 1 }),
          plan("Discord REST 500 three times per request (discord.js's retries)", {
            mode: '500',
            perRequest: 3,
          }),
          plan(
            'Discord REST 429 twice per request, retry_after 1.2 s (after the first response)',
            { mode: '429', perRequest: 2, retryAfterS: 1.2 },
            later,
          ),
          plan(
            "Discord REST 500 five times per post and edit (past discord.js's retries)",
            { mode: '500', perRequest: 5 },
            ['post', 'edit'],
          ),
        ]),
  ];
}

/** Everything a row's workload needs. */
interface Harness {
  server: DiscordRestServer;
  bots: BotProcess[];
  commands: ReadonlyMap<string, Command>;
  /** How long a post or alert made in the background may take to appear before it counts as lost. */
  waitMs: number;
}

export const discordRestScenario: Scenario = {
  id: 'discord-rest',
  title: "Discord's REST answering 429, 500 and timeouts for replies, approval messages and kill alerts",
  run: (ctx) => runDiscordRest(ctx),
};

/** Runs every fault of the scenario and returns its rows. */
export async function runDiscordRest(ctx: ChaosContext): Promise<DiscordRestResult[]> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const db: PrivateDb = await startPrivateDb(path.join(ctx.workDir, 'discord-rest-db'));
    cleanups.push(() => db.stop());
    const server = new DiscordRestServer(IDS.application);
    const api = await server.listen();
    cleanups.push(() => server.close());
    const bots = ['a', 'b'].map(
      (name) =>
        new BotProcess(name, {
          uri: db.uri,
          dbName: DB_NAME,
          dataDir: path.join(ctx.workDir, `discord-rest-bot-${name}`),
          api,
          timeoutMs: REST_TIMEOUT_MS,
          guildId: IDS.guild,
          applicationId: IDS.application,
          alertChannelId: IDS.alerts,
          approvalChannelId: IDS.approvals,
        }),
    );
    cleanups.push(async () => void (await Promise.all(bots.map((b) => b.stop()))));
    const commands = await loadCommands();
    await Promise.all(bots.map((b) => b.started()));
    ctx.log(`discord-rest: two bot processes on ${db.uri}, Discord at ${api}`);
    const conn = await connect({ uri: db.uri, dbName: DB_NAME, timeoutMs: 5000 });
    cleanups.push(() => conn.close());
    const h: Harness = { server, bots, commands, waitMs: ctx.quick ? 6000 : 10_000 };
    const rows: DiscordRestResult[] = [];
    const all = plans(ctx.quick).filter((p) => ctx.select?.(p.name) ?? true);
    await Promise.all(all.map((_, r) => setUp(h, flagOf(r))));
    for (const [r, plan] of all.entries()) {
      if (Date.now() > ctx.deadline) break;
      const flag = flagOf(r);
      const from = {
        received: server.received.length,
        calls: server.fake.calls.length,
        violations: server.fake.violations.length,
      };
      server.inject(plan.fault);
      const started = Date.now();
      const outcomes = await workload(h, plan, r, flag);
      // Every faulted request sent again and answered before the row is measured.
      const settled = await server.settled(from.received, h.waitMs);
      server.clear();
      const channels = { approvals: IDS.approvals, alerts: IDS.alerts };
      const row = await measureRow(plan.name, plan.fault, outcomes, { server, conn, from, channels });
      if (!settled) row.notes.push(`some faulted requests were not sent again within ${h.waitMs} ms`);
      rows.push(row);
      ctx.log(`discord-rest: ${plan.name}: ${Date.now() - started} ms`);
    }
    // The chain is checked once, after every fault (each row's attempts are in it), while the
    // bots, whose writes are all done, stop.
    const chainNotes: string[] = [];
    const [intact] = await Promise.all([
      chainIntact(`${db.uri}${DB_NAME}`, chainNotes),
      ...bots.map((b) => b.stop()),
    ]);
    // Operators' logs, not shown to users: counted so that an unexpected failure is seen.
    const logged = bots.reduce((n, b) => n + stackLines(b.proc.output()), 0);
    if (logged) chainNotes.push(`the bots' logs hold ${logged} stack frame lines (not shown to users)`);
    for (const row of rows) {
      row.chainIntact = intact;
      row.notes.push(...chainNotes);
    }
    return rows;
  } finally {
    for (const fn of cleanups.reverse())
      await fn().catch((err: unknown) => ctx.log(`discord-rest cleanup: ${String(err)}`));
  }
}

const flagOf = (row: number) => `chaos-kill-${String.fromCharCode(97 + row)}`;

/** A flag to kill, made and turned on before the fault (its replies are not part of the row). */
async function setUp(h: Harness, flag: string): Promise<void> {
  for (const line of [
    `/flag create name:${flag} description:"Killed under a fault" type:ops`,
    `/flag on name:${flag}`,
  ]) {
    const o = await command(h, 0, REQUESTER, line);
    if (!o.delivered) throw new Error(`setting up ${flag}: no answer to ${line}`);
  }
}

/** The row's operations, the two bot processes working at once. */
async function workload(h: Harness, plan: Plan, r: number, flag: string): Promise<Outcome[]> {
  const ops: Promise<Outcome | Outcome[]>[] = [];
  for (let i = 0; i < plan.sets; i++) {
    ops.push(command(h, 0, REQUESTER, `/config set setting:MAX_BATCH_SIZE value:${200 + r * 20 + i}`, 'set'));
    ops.push(
      command(h, 1, APPROVER, `/config set setting:IMMEDIATE_EXPORT_BUFFER value:${40 + r * 10 + i}`, 'set'),
    );
  }
  ops.push(command(h, 1, REQUESTER, '/config set setting:MAX_BATCH_SIZE value:5000', 'refusal'));
  ops.push(changeRequest(h, (0.86 + r * 0.01).toFixed(2)));
  ops.push(killAlert(h, r % 2, flag));
  return (await Promise.all(ops)).flat();
}

/** One slash command through bot process `bot`, answered once the bot has handled it. */
async function command(
  h: Harness,
  bot: number,
  sim: Simulated,
  line: string,
  kind: Outcome['kind'] = 'set',
): Promise<Outcome> {
  const parsed = parseCommandLine(line);
  const def = h.commands.get(parsed.command)?.data.toJSON();
  if (!def) throw new Error(`no command /${parsed.command}`);
  return dispatch(h, bot, chatInputPayload(sim, def, parsed), kind, line);
}

async function dispatch(
  h: Harness,
  bot: number,
  payload: APIInteraction,
  kind: Outcome['kind'],
  what: string,
): Promise<Outcome> {
  h.server.fake.arrive(payload);
  const answer = await h.bots[bot]?.dispatch(payload);
  const shown = h.server.fake.messages.of(payload.token);
  // Delivered: the user sees an answer, not "thinking…" (a deferral's flag 128) or nothing.
  const delivered = Boolean(shown && ((shown.flags ?? 0) & 128) === 0);
  return {
    kind,
    what,
    delivered,
    text: shown ? textOf(shown) : '',
    ...(answer?.ok === false ? { error: answer.error ?? 'failed' } : {}),
  };
}

/** A change request: asked on bot a, posted in the approval channel, approved on bot b, its post edited. */
async function changeRequest(h: Harness, value: string): Promise<Outcome[]> {
  const asked = await command(h, 0, REQUESTER, `/config set setting:${HIGH} value:${value}`, 'request');
  const id = /CR-[A-Z0-9]{5}/.exec(asked.text)?.[0];
  if (!id) return [asked];
  const posted = await waitForMessage(h, IDS.approvals, (m) => textOf(m).includes(id));
  const post: Outcome = {
    kind: 'post',
    what: `approval message of ${id}`,
    delivered: Boolean(posted),
    text: posted ? textOf(posted) : '',
    id,
  };
  if (!posted) return [asked, post];
  const approved = await dispatch(
    h,
    1,
    buttonPayload(APPROVER, posted, `config:rq-approve:${id}`),
    'approve',
    `Approve ${id}`,
  );
  const edited = await waitForMessage(
    h,
    IDS.approvals,
    (m) => m.id === posted.id && /\*\*Applied\*\*/.test(textOf(m)),
  );
  const edit: Outcome = {
    kind: 'edit',
    what: `approval message of ${id} edited to applied`,
    delivered: Boolean(edited),
    text: edited ? textOf(edited) : '',
    id,
  };
  return [asked, post, { ...approved, id }, edit];
}

/** A flag's automatic kill on bot process `bot`, whose alert either process may post. */
async function killAlert(h: Harness, bot: number, flag: string): Promise<Outcome> {
  const answer = await h.bots[bot]?.kill(flag, `chaos: errors passed the threshold of ${flag}`);
  const alert = await waitForMessage(h, IDS.alerts, (m) => m.content.includes(`**${flag}**`));
  return {
    kind: 'alert',
    what: `kill alert of ${flag}`,
    delivered: Boolean(alert),
    text: alert ? textOf(alert) : '',
    id: flag,
    ...(answer?.ok === false ? { error: answer.error ?? 'failed' } : {}),
  };
}

/** The message of `channelId` matching `match` once it is there; undefined if not within h.waitMs. */
async function waitForMessage(
  h: Harness,
  channelId: string,
  match: (m: APIMessage) => boolean,
): Promise<APIMessage | undefined> {
  const until = Date.now() + h.waitMs;
  for (;;) {
    const found = [...h.server.fake.messages.byId.values()].find(
      (m) => m.channel_id === channelId && match(m),
    );
    if (found || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
}
