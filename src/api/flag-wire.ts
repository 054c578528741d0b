import type { WireFlag } from '@config-bot/client';
import { z } from 'zod';
import type { Actor } from '../storage/config-models.js';
import {
  FLAG_IMPACTS,
  FLAG_TYPES,
  OPERATORS,
  PAYLOAD_TYPES,
  flagSchema,
  type Condition,
  type FlagDefinition,
  type FlagInput,
  type Variant,
} from '@config-bot/client/flags';

/**
 * A flag as the API sends it (`WireFlag`, declared with the other wire types in @config-bot/client):
 * the stored definition as it is plus the version it is at and who made that version. Described
 * here for the answers and the OpenAPI document only: what is sent was validated by parseFlag
 * when it was written.
 */
const targets = z.object({
  users: z.array(z.string()),
  roles: z.array(z.string()),
  guilds: z.array(z.string()),
});

export const wireFlagSchema = z.object({
  name: z.string(),
  description: z.string(),
  type: z.enum(FLAG_TYPES),
  owner: z.string(),
  enabled: z.boolean().describe('The kill switch: false is off for everyone'),
  environments: z.array(z.string()),
  include: targets,
  exclude: targets,
  conditions: z.array(
    z.object({
      attribute: z.string(),
      operator: z.enum(OPERATORS),
      values: z.array(z.string()),
      inverted: z.boolean().optional().describe('Holds when the operator does not'),
      caseInsensitive: z.boolean().optional().describe('Text operators compare lower-cased'),
    }),
  ),
  rollout: z.number().describe('Percentage, 0 to 100, at most two decimals'),
  stickiness: z.string(),
  group: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  prerequisites: z.array(z.string()),
  variants: z.array(
    z.object({
      name: z.string(),
      weight: z.number().describe('Thousandths; all weights add up to 1000'),
      payload: z.object({ type: z.enum(PAYLOAD_TYPES), value: z.string() }).optional(),
      overrides: z
        .array(z.object({ attribute: z.string(), values: z.array(z.string()) }))
        .optional()
        .describe('Contexts with one of these values get this variant, before the weights'),
    }),
  ),
  errorThreshold: z.object({ errors: z.number(), windowMs: z.number() }).optional(),
  archived: z.boolean().describe('Archived flags evaluate as off'),
  impact: z
    .enum(FLAG_IMPACTS)
    .describe('Changes of a flag whose level needs approvals become change requests'),
  version: z.number(),
  updatedAt: z.string(),
  updatedBy: z.object({ id: z.string(), tag: z.string() }),
});

/** A WireFlag as this server sends it: `updatedBy` always has its tag. */
export type SentFlag = z.infer<typeof wireFlagSchema>;

// The schema describes the declared wire type: what it describes is a WireFlag, and a field of
// WireFlag it does not list (one added to the flag model, say) would be dropped from answers
// without a word, so the compiler says so instead.
type Missing = Exclude<keyof WireFlag, keyof SentFlag>;
const everyField: [Missing] extends [never] ? true : Missing = true;
// The same for a condition's fields: an optional one left out here would still type-check above.
type MissingInCondition = Exclude<keyof Condition, keyof SentFlag['conditions'][number]>;
const everyConditionField: [MissingInCondition] extends [never] ? true : MissingInCondition = true;
void everyConditionField;
type MissingInVariant = Exclude<keyof Variant, keyof SentFlag['variants'][number]>;
const everyVariantField: [MissingInVariant] extends [never] ? true : MissingInVariant = true;
void everyVariantField;
const isWireFlag: SentFlag extends WireFlag ? true : false = true;
void everyField;
void isWireFlag;

/** A definition at a version, as sent. */
export function wireFlag(flag: FlagDefinition, version: number, updatedAt: Date, updatedBy: Actor): SentFlag {
  return {
    ...flag,
    version,
    updatedAt: updatedAt.toISOString(),
    updatedBy: { id: updatedBy.id, tag: updatedBy.tag },
  };
}

// ---- flags as written ----------------------------------------------------------------------
// The body schemas of the write routes are the model's own field schemas, so a route refuses
// what parseFlag refuses, with the same message naming the field, and the OpenAPI document
// shows the same rules. The store validates the whole flag again (rules across fields).

const field = flagSchema.shape;
const reason = z.string().max(500).optional().describe('Why (kept in the history)');

/** Fields that are not written through these routes, and what to do instead. */
const NOT_WRITABLE: Record<string, string> = {
  name: 'name: a flag cannot be renamed',
  archived: 'archived: not set here (archive with /flag archive; a rollback restores an archived flag)',
};

/** An unknown or unwritable field is refused by name (zod would otherwise drop it silently). */
const strict = {
  error: (iss: { code?: string; keys?: string[] }) =>
    iss.code === 'unrecognized_keys'
      ? (iss.keys ?? []).map((k) => NOT_WRITABLE[k] ?? `${k}: unknown field`).join('; ')
      : undefined,
};

const { archived: _archived, ...creatable } = field;

/** `POST /v1/flags`: a new flag; fields left out take their defaults (off, in no environment). */
export const flagCreateBody = z.strictObject({ ...creatable, reason }, strict);

/**
 * `PATCH /v1/flags/:name`: the fields given replace the flag's (a list or an include/exclude
 * object as a whole); `null` removes group, start, end or errorThreshold. No defaults here: a
 * field left out stays as it is.
 */
export const flagPatchBody = z.strictObject(
  {
    description: field.description.optional(),
    type: field.type.optional(),
    owner: field.owner.optional(),
    enabled: field.enabled.unwrap().optional(),
    environments: field.environments.unwrap().optional(),
    include: field.include.unwrap().optional(),
    exclude: field.exclude.unwrap().optional(),
    conditions: field.conditions.unwrap().optional(),
    rollout: field.rollout.unwrap().optional(),
    stickiness: field.stickiness.unwrap().optional(),
    group: field.group.unwrap().nullable().optional().describe('null: back to the flag name'),
    start: field.start.unwrap().nullable().optional().describe('null: no start'),
    end: field.end.unwrap().nullable().optional().describe('null: no end'),
    prerequisites: field.prerequisites.unwrap().optional(),
    variants: field.variants.unwrap().optional(),
    errorThreshold: field.errorThreshold
      .unwrap()
      .nullable()
      .optional()
      .describe('null: never switched off automatically'),
    impact: field.impact.unwrap().optional(),
    reason,
  },
  strict,
);

export type FlagPatch = Omit<z.output<typeof flagPatchBody>, 'reason'>;

/** The flag with a patch applied: given fields replace, `null` removes an optional one. */
export function patched(flag: FlagDefinition, patch: FlagPatch): FlagInput {
  const next: Record<string, unknown> = { ...flag };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next as FlagInput;
}

/** What a write route answers (202 and refusals aside). */
export const flagWrittenSchema = z.object({
  name: z.string(),
  status: z.enum(['committed', 'unchanged']),
  action: z.string().describe('create or set'),
  version: z.number(),
  changes: z.array(z.string()).describe('What changed, one line per field (rollout: 10% → 25%)'),
  flag: wireFlagSchema.describe('The flag as it is now'),
  seq: z.number().nullable().describe('The change’s position in the change stream'),
  message: z.string().optional().describe('Why nothing changed, for `unchanged`'),
});
