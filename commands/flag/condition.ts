import { SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { conditionValues, OPERATORS, type Operator } from '@config-bot/client/flags';
import { UserError } from '../../src/base/errors.js';
import { autocomplete } from '../../src/discord/flag/complete.js';
import { change } from '../../src/discord/flag/change.js';
import { editConditions, type ConditionChange } from '../../src/discord/flag/edits.js';
import { onFlag, reasonOption, FLAG_EDIT } from '../../src/discord/flag/options.js';
import type { CommandContext } from '../../src/discord/types.js';

export const data = onFlag(
  new SlashCommandSubcommandBuilder(),
  'condition',
  'Add a condition (all must hold), or remove one, or clear them',
)
  .addStringOption((o) =>
    o.setName('attribute').setDescription('Context attribute (plan, app.version, userId)').setMaxLength(64),
  )
  .addStringOption((o) =>
    o
      .setName('operator')
      .setDescription('How to compare')
      .addChoices(...OPERATORS.map((op) => ({ name: op, value: op }))),
  )
  .addStringOption((o) =>
    o
      .setName('values')
      .setDescription('Comma-separated values (pro, team); one value for regex, num_eq, lt, semver_gt...')
      .setMaxLength(2000),
  )
  .addBooleanOption((o) =>
    o.setName('inverted').setDescription('Holds when the operator does not (Unleash: inverted)'),
  )
  .addBooleanOption((o) =>
    o
      .setName('case_insensitive')
      .setDescription('Compare text lower-cased (equals, contains, starts_with, ends_with, regex)'),
  )
  .addIntegerOption((o) =>
    o
      .setName('remove')
      .setDescription('Remove the condition with this number (see /flag view)')
      .setMinValue(1)
      .setMaxValue(50),
  )
  .addBooleanOption((o) => o.setName('clear').setDescription('Remove every condition'))
  .addStringOption(reasonOption);

// A change of one flag: admins, deferred, within the write limits, audited as a set.
export const requires = FLAG_EDIT;

export { autocomplete };

export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  await change(i, ctx, 'Conditions of', (f) => editConditions(f, conditionChange(i)));
}

/** Exactly one of: attribute + operator + values (add), remove:<number>, clear:true. */
function conditionChange(i: ChatInputCommandInteraction): ConditionChange {
  const attribute = i.options.getString('attribute');
  const operator = i.options.getString('operator');
  const values = i.options.getString('values');
  const inverted = i.options.getBoolean('inverted');
  const caseInsensitive = i.options.getBoolean('case_insensitive');
  const remove = i.options.getInteger('remove');
  const clear = i.options.getBoolean('clear') === true;
  const adding =
    attribute !== null ||
    operator !== null ||
    values !== null ||
    inverted !== null ||
    caseInsensitive !== null;
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
  // Left out rather than false, so a flag written before these options existed reads the same.
  return {
    add: {
      attribute: attribute.trim(),
      operator: operator as Operator,
      values: conditionValues(operator, values),
      ...(inverted ? { inverted: true } : {}),
      ...(caseInsensitive ? { caseInsensitive: true } : {}),
    },
  };
}
