import type { ChatInputCommandInteraction } from 'discord.js';
import { UserError } from '../../errors.js';
import { PAYLOAD_TYPES, type VariantPayload } from '../../flags/model.js';
import type { CommandContext } from '../types.js';
import { editStickiness } from './bucketing.js';
import { editThreshold, parseWindow } from './threshold.js';
import { editPayload, editVariants, parseWeights } from './variants.js';
import { change } from './write.js';

// The fields of a flag that shape a rollout beyond its percentage: variants and their payloads,
// stickiness and group, and the error threshold of the automatic kill. As in write.ts, what is
// typed is read inside the store's write, so a refusal is audited like any other.

/** Exactly one of the options named, or a refusal saying which to give. */
function oneOf(given: Record<string, boolean>, hint: string): void {
  if (Object.values(given).filter(Boolean).length !== 1)
    throw new UserError('INVALID_VALUE', `Give either ${Object.keys(given).join(' or ')}: ${hint}`);
}

export async function variants(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const weights = i.options.getString('weights');
  const clear = i.options.getBoolean('clear') === true;
  await change(i, ctx, 'Variants of', (f) => {
    oneOf(
      { weights: weights !== null, 'clear:true': clear },
      'weights lists every variant as name:weight in thousandths adding up to 1000 (blue:500, green:500).',
    );
    return editVariants(f, weights === null ? null : parseWeights(weights));
  });
}

export async function payload(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const variant = i.options.getString('variant', true).trim();
  const type = i.options.getString('type');
  const value = i.options.getString('value');
  const remove = i.options.getBoolean('remove') === true;
  await change(i, ctx, 'Payload of', (f) => {
    oneOf(
      { 'type and value': type !== null || value !== null, 'remove:true': remove },
      `a payload is a type (${PAYLOAD_TYPES.join(', ')}) and its value.`,
    );
    if (remove) return editPayload(f, variant, null);
    if (type === null || value === null)
      throw new UserError(
        'INVALID_VALUE',
        `A payload needs both type (${PAYLOAD_TYPES.join(', ')}) and value.`,
      );
    return editPayload(f, variant, { type, value } as VariantPayload);
  });
}

export async function stickiness(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const by = i.options.getString('by') ?? undefined;
  const group = i.options.getString('group') ?? undefined;
  await change(i, ctx, 'Stickiness of', (f) => editStickiness(f, by, group));
}

export async function threshold(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const errors = i.options.getInteger('errors') ?? undefined;
  const window = i.options.getString('window') ?? undefined;
  const clear = i.options.getBoolean('clear') === true;
  await change(i, ctx, 'Automatic kill of', (f) => {
    oneOf(
      { 'errors and window': errors !== undefined || window !== undefined, 'clear:true': clear },
      'the flag is switched off when that many errors are reported within the window (errors:10 window:5m).',
    );
    if (clear) return editThreshold(f, null);
    return editThreshold(f, { errors, windowMs: window === undefined ? undefined : parseWindow(window) });
  });
}
