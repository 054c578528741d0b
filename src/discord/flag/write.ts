import type { ChatInputCommandInteraction } from 'discord.js';
import { UserError } from '../../errors.js';
import { OPERATORS, type FlagImpact, type FlagType, type Operator } from '../../flags/model.js';
import { actorOf, contextOf } from '../access.js';
import type { CommandContext } from '../types.js';
import { answerWrite } from './answer.js';
import { askArchive, askOff } from './confirm.js';
import {
  editConditions,
  editSchedule,
  editTarget,
  idOf,
  offInProduction,
  setRollout,
  splitValues,
  turnOff,
  turnOn,
  type ConditionChange,
  type Edit,
  type Side,
  type TargetKind,
} from './edits.js';
import { nameOf, normalName, reasonOf } from './options.js';
import { editPrerequisites } from './prerequisites.js';
import { writeEmbed } from './render.js';
import { scheduleBound } from './when.js';

// Access, the acknowledgement and the attempt limit are enforced before these run (`requires` in
// commands/flag.ts). Every refusal below is thrown inside the store's write, which audits it.

/** Applies an edit to the flag as it is now, and answers with what changed. */
export async function change(
  i: ChatInputCommandInteraction,
  ctx: CommandContext,
  title: string,
  edit: (f: Parameters<typeof turnOff>[0]) => Edit,
): Promise<void> {
  let warnings: string[] = [];
  const result = await ctx.flags.update(
    nameOf(i),
    (f) => {
      const e = edit(f);
      warnings = e.warnings;
      return e.flag;
    },
    actorOf(i),
    reasonOf(i),
    contextOf(i),
  );
  await answerWrite(i, ctx, writeEmbed(title, result, warnings), result);
}

const envOf = (i: ChatInputCommandInteraction) => {
  const env = i.options.getString('env');
  return env ? normalName(env) : undefined;
};

export async function create(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const result = await ctx.flags.create(
    {
      name: i.options.getString('name', true).trim(),
      description: i.options.getString('description', true),
      type: i.options.getString('type', true) as FlagType,
      owner: i.options.getString('owner') ?? i.user.tag,
      impact: (i.options.getString('impact') ?? 'low') as FlagImpact,
    },
    actorOf(i),
    reasonOf(i),
    contextOf(i),
  );
  const next = `It is off until turned on: /flag on name:${result.name} (it then also gets this bot's environment, ${ctx.config.environment}, as it is on in no environment yet).`;
  await answerWrite(i, ctx, writeEmbed('Created', result).addFields({ name: 'Next', value: next }), result);
}

export async function on(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const env = envOf(i);
  await change(i, ctx, env ? `Turned on in ${env}:` : 'Turned on', (f) =>
    turnOn(f, env, ctx.config.environment, ctx.config.environments),
  );
}

/** Off in production asks for confirmation first; anything else is done at once. */
export async function off(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const env = envOf(i);
  const held = ctx.flags.get(nameOf(i));
  if (held && !held.flag.archived && offInProduction(held.flag, env)) return askOff(i, ctx, held, env);
  await change(i, ctx, env ? `Turned off in ${env}:` : 'Turned off', (f) => turnOff(f, env));
}

export async function rollout(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const percent = i.options.getNumber('percent', true);
  await change(i, ctx, 'Rollout of', (f) => setRollout(f, percent));
}

export async function target(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const kind = i.options.getString('kind', true) as TargetKind;
  const side = i.options.getString('list', true) as Side;
  const add = (i.options.getString('action') ?? 'add') === 'add';
  const raw = i.options.getString('id', true);
  await change(i, ctx, 'Targets of', (f) => editTarget(f, { add, side, kind, id: idOf(raw, kind) }));
}

/** Exactly one of: attribute + operator + values (add), remove:<number>, clear:true. */
function conditionChange(i: ChatInputCommandInteraction): ConditionChange {
  const attribute = i.options.getString('attribute');
  const operator = i.options.getString('operator');
  const values = i.options.getString('values');
  const remove = i.options.getInteger('remove');
  const clear = i.options.getBoolean('clear') === true;
  const adding = attribute !== null || operator !== null || values !== null;
  if (Number(adding) + Number(remove !== null) + Number(clear) !== 1)
    throw new UserError(
      'INVALID_VALUE',
      'Give either attribute, operator and values (to add a condition), or remove:<number> (as /flag view numbers them), or clear:true.',
    );
  if (remove !== null) return { remove };
  if (clear) return { clear: true };
  if (attribute === null || operator === null || values === null)
    throw new UserError(
      'INVALID_VALUE',
      'A condition needs attribute, operator and values (comma-separated).',
    );
  if (!(OPERATORS as readonly string[]).includes(operator))
    throw new UserError('INVALID_VALUE', `operator must be one of ${OPERATORS.join(', ')}.`);
  return {
    add: { attribute: attribute.trim(), operator: operator as Operator, values: splitValues(values) },
  };
}

export async function condition(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  await change(i, ctx, 'Conditions of', (f) => editConditions(f, conditionChange(i)));
}

/** Start and end read as `/config set at:` reads a time (in SCHEDULE_TIMEZONE), or ISO 8601. */
export async function schedule(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const zone = String(ctx.config.get('SCHEDULE_TIMEZONE'));
  const now = new Date();
  await change(i, ctx, 'Schedule of', (f) => {
    const start = scheduleBound('start', i.options.getString('start') ?? undefined, zone, now);
    const end = scheduleBound('end', i.options.getString('end') ?? undefined, zone, now);
    return editSchedule(f, start, end, now);
  });
}

export async function requireFlag(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const name = normalName(i.options.getString('prerequisite', true));
  const add = (i.options.getString('action') ?? 'add') === 'add';
  await change(i, ctx, 'Prerequisites of', (f) => editPrerequisites(f, { add, name }, ctx.flags));
}

/** Archiving a flag that is on in production switches it off there: that asks first. */
export async function archive(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const held = ctx.flags.get(nameOf(i));
  if (held && !held.flag.archived && offInProduction(held.flag, undefined)) return askArchive(i, ctx, held);
  const result = await ctx.flags.archive(nameOf(i), actorOf(i), reasonOf(i), contextOf(i));
  await answerWrite(i, ctx, writeEmbed('Archived', result), result);
}
