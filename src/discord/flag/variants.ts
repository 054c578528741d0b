import { UserError } from '../../base/errors.js';
import {
  VARIANT_WEIGHT_TOTAL,
  type FlagDefinition,
  type Variant,
  type VariantOverride,
  type VariantPayload,
} from '@config-bot/client/flags';
import { preview } from '../../base/text.js';
import type { Edit } from './edits.js';

const unchanged = (message: string) => new UserError('UNCHANGED', `${message} Nothing was changed.`);

/**
 * `blue:500, green:500` (or `blue=500`): variant names with their weights in thousandths, in
 * order. What is not `name:weight` is refused here; names, weights and their sum are checked by
 * the model with the rest of the flag, so every problem is listed at once.
 */
export function parseWeights(text: string): { name: string; weight: number }[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p, i, all) => p !== '' || all.length === 1);
  const bad = parts.filter((p) => !/^[^\s:=]+\s*[:=]\s*-?\d+(\.\d+)?$/.test(p));
  if (bad.length || !parts.length)
    throw new UserError(
      'INVALID_VALUE',
      `variants: ${bad.length ? bad.map((p) => `"${preview(p)}"`).join(', ') : 'nothing'} ${bad.length === 1 ? 'is' : 'are'} not name:weight. Give every variant with its weight in thousandths, adding up to ${VARIANT_WEIGHT_TOTAL}: blue:500, green:500.`,
    );
  return parts.map((p) => {
    const [name = '', weight = ''] = p.split(/\s*[:=]\s*/);
    return { name, weight: Number(weight) };
  });
}

/**
 * Replaces the variants (names and weights, in order); a variant that keeps its name keeps its
 * payload. `null` removes them all.
 */
export function editVariants(f: FlagDefinition, weights: { name: string; weight: number }[] | null): Edit {
  if (weights === null) {
    if (!f.variants.length) throw unchanged(`${f.name} has no variants.`);
    return { flag: { ...f, variants: [] }, warnings: [] };
  }
  const variants: Variant[] = weights.map(({ name, weight }) => {
    const payload = f.variants.find((v) => v.name === name)?.payload;
    return { name, weight, ...(payload ? { payload } : {}) };
  });
  const dropped = f.variants.filter((v) => v.payload && !weights.some((w) => w.name === v.name));
  const warnings = [
    ...(dropped.length ? [`The payload of ${dropped.map((v) => v.name).join(', ')} went with it.`] : []),
    ...(f.variants.length
      ? ['Users are assigned to variants anew where the weights or the order changed.']
      : []),
  ];
  return { flag: { ...f, variants }, warnings };
}

/** Sets or removes (`null`) the payload of one variant. */
export function editPayload(f: FlagDefinition, name: string, payload: VariantPayload | null): Edit {
  const at = variantAt(f, name);
  const current = f.variants[at];
  if (payload === null && !current?.payload) throw unchanged(`${name} has no payload.`);
  const variants = f.variants.map((v, i) => {
    if (i !== at) return v;
    const { payload: _old, ...rest } = v;
    return payload ? { ...rest, payload } : rest;
  });
  return { flag: { ...f, variants }, warnings: [] };
}

/**
 * Pins a variant to contexts whose attribute has one of `values` (replacing that attribute's
 * override of the variant), or unpins: the attribute given, or every override of the variant.
 */
export function editOverride(
  f: FlagDefinition,
  name: string,
  change: { attribute: string; values: string[] } | { clear: true; attribute: string | null },
): Edit {
  const at = variantAt(f, name);
  const current = f.variants[at]?.overrides ?? [];
  let overrides: VariantOverride[];
  if ('clear' in change) {
    if (!current.length) throw unchanged(`${name} has no overrides.`);
    if (change.attribute !== null && !current.some((o) => o.attribute === change.attribute))
      throw unchanged(
        `${name} has no override on ${preview(change.attribute)} (it has: ${current.map((o) => o.attribute).join(', ')}).`,
      );
    overrides = change.attribute === null ? [] : current.filter((o) => o.attribute !== change.attribute);
  } else {
    if (!change.attribute)
      throw new UserError(
        'INVALID_VALUE',
        'An override needs attribute: the context attribute whose values get the variant.',
      );
    const next = { attribute: change.attribute, values: change.values };
    overrides = current.some((o) => o.attribute === change.attribute)
      ? current.map((o) => (o.attribute === change.attribute ? next : o))
      : [...current, next];
  }
  const variants = f.variants.map((v, i) => {
    if (i !== at) return v;
    const { overrides: _old, ...rest } = v;
    return overrides.length ? { ...rest, overrides } : rest;
  });
  return { flag: { ...f, variants }, warnings: [] };
}

/** Where variant `name` is, or a refusal naming the flag's variants. */
function variantAt(f: FlagDefinition, name: string): number {
  const at = f.variants.findIndex((v) => v.name === name);
  if (at < 0)
    throw new UserError(
      'INVALID_VALUE',
      f.variants.length
        ? `${preview(name)} is not a variant of ${f.name} (its variants: ${f.variants.map((v) => v.name).join(', ')}).`
        : `${f.name} has no variants yet: /flag variants name:${f.name} weights:"a:500, b:500" adds them.`,
    );
  return at;
}
