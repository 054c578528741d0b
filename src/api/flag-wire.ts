import { z } from 'zod';
import type { Actor } from '../config/models.js';
import { FLAG_IMPACTS, FLAG_TYPES, OPERATORS, PAYLOAD_TYPES, type FlagDefinition } from '../flags/model.js';

/**
 * A flag as the API sends it: the stored definition as it is (model.ts says what each field means)
 * plus the version it is at and who made that version. Described here for the answers and the
 * OpenAPI document only: what is sent was validated by parseFlag when it was written.
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
    z.object({ attribute: z.string(), operator: z.enum(OPERATORS), values: z.array(z.string()) }),
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

export type WireFlag = z.infer<typeof wireFlagSchema>;

// The wire schema lists every field of a definition: a field added to the model and not here
// would be dropped from answers without a word, so the compiler says so instead.
type Missing = Exclude<keyof FlagDefinition, keyof WireFlag>;
const everyField: [Missing] extends [never] ? true : Missing = true;
void everyField;

/** A definition at a version, as sent. */
export function wireFlag(flag: FlagDefinition, version: number, updatedAt: Date, updatedBy: Actor): WireFlag {
  return {
    ...flag,
    version,
    updatedAt: updatedAt.toISOString(),
    updatedBy: { id: updatedBy.id, tag: updatedBy.tag },
  };
}
