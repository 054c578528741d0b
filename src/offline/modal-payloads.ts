import {
  ComponentType,
  InteractionType,
  type APIModalInteractionResponseCallbackData,
  type APIModalSubmissionComponent,
  type APIModalSubmitInteraction,
} from 'discord-api-types/v10';
import { discordLength } from '../discord/limits.js';
import { base } from './payloads.js';
import { PayloadError, type Simulated } from './simulated.js';

/** A text input of a modal the bot showed, as the user sees it. */
export interface ModalField {
  customId: string;
  label: string;
  value: string;
  required: boolean;
  minLength: number;
  maxLength: number;
}

interface TextInputJSON {
  type?: number;
  custom_id?: string;
  label?: string;
  value?: string;
  required?: boolean;
  min_length?: number;
  max_length?: number;
}

interface ModalRowJSON {
  type?: number;
  label?: string;
  component?: TextInputJSON;
  components?: TextInputJSON[];
}

/** The text inputs of a modal (in action rows or labels), in order. */
export function modalFields(modal: APIModalInteractionResponseCallbackData): ModalField[] {
  const rows = (modal.components ?? []) as ModalRowJSON[];
  return rows.flatMap((row) => {
    const input = row.type === ComponentType.Label ? row.component : row.components?.[0];
    if (!input || input.type !== ComponentType.TextInput || !input.custom_id) return [];
    return [
      {
        customId: input.custom_id,
        label: (row.type === ComponentType.Label ? row.label : input.label) ?? input.custom_id,
        value: input.value ?? '',
        required: input.required ?? true,
        minLength: input.min_length ?? 0,
        maxLength: input.max_length ?? 4000,
      },
    ];
  });
}

/**
 * What Discord sends when the user submits `modal` with `values` typed into its text inputs (by
 * custom id; an input not given keeps what it was prefilled with). Refuses what Discord's client
 * does not let a user submit: an unknown input, a required one left empty, a text shorter than
 * min_length or longer than max_length.
 */
export function modalSubmitPayload(
  sim: Simulated,
  modal: APIModalInteractionResponseCallbackData,
  values: Readonly<Record<string, string>>,
): APIModalSubmitInteraction {
  const fields = modalFields(modal);
  for (const id of Object.keys(values))
    if (!fields.some((f) => f.customId === id))
      throw new PayloadError(
        `The form has no field ${id}; it has: ${fields.map((f) => f.customId).join(', ') || 'none'}`,
      );
  const typed = new Map(fields.map((f) => [f.customId, values[f.customId] ?? f.value]));
  for (const f of fields) {
    const length = discordLength(typed.get(f.customId) ?? '');
    if (f.required && length === 0) throw new PayloadError(`${f.label}: this field is required`);
    if (length > f.maxLength)
      throw new PayloadError(
        `${f.label}: ${length} characters is more than ${f.maxLength}, the most it takes`,
      );
    if (length > 0 && length < f.minLength)
      throw new PayloadError(
        `${f.label}: ${length} characters is fewer than ${f.minLength}, the least it takes`,
      );
  }
  const components = ((modal.components ?? []) as ModalRowJSON[]).flatMap(
    (row): APIModalSubmissionComponent[] => {
      const input = row.type === ComponentType.Label ? row.component : row.components?.[0];
      if (!input?.custom_id) return [];
      const submitted = {
        type: ComponentType.TextInput as const,
        custom_id: input.custom_id,
        value: typed.get(input.custom_id) ?? '',
      };
      return row.type === ComponentType.Label
        ? [{ type: ComponentType.Label, component: submitted }]
        : [{ type: ComponentType.ActionRow, components: [submitted] }];
    },
  );
  return {
    ...base(sim),
    type: InteractionType.ModalSubmit,
    data: { custom_id: modal.custom_id, components },
  } as APIModalSubmitInteraction;
}
