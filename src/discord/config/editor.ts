import {
  ComponentType,
  TextInputStyle,
  type APIModalInteractionResponseCallbackData,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { UserError } from '../../base/errors.js';
import type { RegisteredKey } from '../../config/registry.js';
import { GLOBAL, type Scope } from '../../config/scopes.js';
import { MAX_REASON_LENGTH } from '../../config/validate.js';
import { clip } from '../fit.js';
import { discordLength, MODAL_LIMITS } from '../limits.js';
import type { AuditAction } from '../../storage/config-models.js';
import type { CommandContext, Invocation } from '../types.js';
import { scopeCode, scopeFromCode } from './scope-code.js';
import { setValue } from './write.js';

// `/config set` of a JSON object or a text without `value` opens an editor (a Discord modal)
// prefilled with what the scope holds; what comes back goes through the same set as a typed value.

/** The text inputs of the editor, by custom id. */
export const EDITOR_FIELDS = { value: 'value', reason: 'reason' } as const;

/** What an editor was opened for, carried in its custom id: `config:edit:<KEY>:<scope code>:<version>`. */
export interface EditorTarget {
  key: string;
  scope: Scope;
  /** The version the scope held when the editor opened; the write is refused if it moved. */
  version: number;
}

/** Whether a key is edited in the editor, and as what; other kinds need `value` typed. */
export function editorKind(def: Pick<RegisteredKey, 'type'>): 'json' | 'text' | undefined {
  const type = def.type.replace(/, or unset$/, '');
  if (type === 'JSON object') return 'json';
  // text() without a hint; a text with a hint (a token's form) is short and typed.
  if (/^text \(\d+-\d+ characters\)$/.test(type)) return 'text';
  return undefined;
}

export function editorId(t: EditorTarget): string {
  return `config:edit:${t.key}:${scopeCode(t.scope)}:${t.version}`;
}

/** The target of an editor's custom id; undefined when it is not one (a bug, or a forged id). */
export function editorTarget(customId: string): EditorTarget | undefined {
  const m = /^config:edit:([A-Z][A-Z0-9_]{0,63}):([^:]+):(\d{1,15})$/.exec(customId);
  if (!m) return undefined;
  return { key: m[1] ?? '', scope: scopeFromCode(m[2] ?? 'g'), version: Number(m[3]) };
}

/**
 * Opens the editor for `/config set` without `value`: the first response (a modal cannot follow
 * a deferral, which is why `set` is not deferred then). Refuses, with what to do instead, a kind
 * that is typed, a timed change (for/at), and a value longer than a text input holds. A sensitive
 * key opens empty: a secret is never sent back to Discord, even to an admin.
 */
export async function openEditor(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const def = ctx.config.definition(i.options.getString('setting', true));
  const kind = editorKind(def);
  if (!kind)
    throw new UserError('INVALID_VALUE', `value is required for ${def.key} (${def.type})`, {
      key: def.key,
      action: 'set',
    });
  if (i.options.getString('for') !== null || i.options.getString('at') !== null)
    throw new UserError(
      'INVALID_VALUE',
      `for and at need the value typed: /config set setting:${def.key} value:... The editor applies its value at once.`,
      { key: def.key, action: 'set' },
    );
  const scope = ctx.config.scopeOf(def, i.options.getString('scope') ?? ctx.access.ownScope(i));
  const where = scope === GLOBAL ? '' : ` at ${scope}`;
  const current = def.sensitive ? '' : editorText(kind, def, heldValue(ctx, def, scope));
  const length = discordLength(current);
  if (length > MODAL_LIMITS.textLength)
    throw new UserError(
      'TOO_LONG',
      `${def.key}${where} holds ${length} characters, more than the ${MODAL_LIMITS.textLength} a Discord text box takes; no editor was opened. Type the new value with value: instead.`,
      { key: def.key, action: 'set' },
    );
  const id = editorId({ key: def.key, scope, version: ctx.config.cachedVersion(def.key, scope) });
  if (discordLength(id) > MODAL_LIMITS.customId)
    throw new UserError(
      'TOO_LONG',
      `${def.key}${where}: the key and scope names are too long for a Discord editor; type the new value with value: instead.`,
      { key: def.key, action: 'set' },
    );
  await i.showModal(editorModal(def, kind, id, current, i.options.getString('reason') ?? ''));
}

/** The value a scope holds itself: the global value, or an override (what it inherits when it has none). */
function heldValue(ctx: CommandContext, def: RegisteredKey, scope: Scope): unknown {
  // getAll reads the global layer from memory; describe() at global shows the value in force here.
  if (scope === GLOBAL) return ctx.config.getAll()[def.key];
  const held = ctx.config.overrideScopes(def.key).includes(scope);
  // A deep-merged override holds only the fields it changes: a new one starts empty.
  if (!held && def.merge === 'deep') return {};
  return ctx.config.describe(def.key, { scope }).value;
}

function editorText(kind: 'json' | 'text', def: RegisteredKey, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (kind === 'json') return JSON.stringify(value, null, 2);
  return def.format(value as never);
}

function editorModal(
  def: RegisteredKey,
  kind: 'json' | 'text',
  id: string,
  current: string,
  reason: string,
): APIModalInteractionResponseCallbackData {
  const label = def.sensitive
    ? 'New value (the current one is secret)'
    : kind === 'json'
      ? 'Value (JSON object)'
      : 'Value';
  return {
    custom_id: id,
    title: clip(`Edit ${def.key}`, MODAL_LIMITS.title),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: EDITOR_FIELDS.value,
            label,
            style: TextInputStyle.Paragraph,
            required: true,
            max_length: MODAL_LIMITS.textLength,
            ...(current ? { value: current } : {}),
          },
        ],
      },
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: EDITOR_FIELDS.reason,
            label: 'Reason (kept in the history)',
            style: TextInputStyle.Short,
            required: false,
            max_length: Math.min(MAX_REASON_LENGTH, MODAL_LIMITS.textLength),
            ...(reason ? { value: reason } : {}),
          },
        ],
      },
    ],
  };
}

/**
 * The editor submitted (`config:edit:<KEY>:<scope>:<version>`): the value goes through the same
 * set as a typed one, refused if the key moved since the editor opened.
 */
export async function submitEditor(i: ModalSubmitInteraction, ctx: CommandContext): Promise<void> {
  const target = editorTarget(i.customId);
  if (!target) throw new Error(`Malformed editor id ${i.customId}`);
  const typed = i.fields.getTextInputValue(EDITOR_FIELDS.value);
  const reason = i.fields.getTextInputValue(EDITOR_FIELDS.reason).trim();
  await setValue(i, ctx, {
    setting: target.key,
    value: compactJson(ctx, target.key, typed),
    reason: reason || undefined,
    scope: target.scope,
    expectedVersion: target.version,
  });
}

/** What the dispatcher checks before `submitEditor`: write access to that key at that scope. */
export function editorAttempt(
  i: Invocation,
  _ctx: CommandContext,
): { key: string; action: AuditAction; scope: string } {
  const target = i.isModalSubmit() ? editorTarget(i.customId) : undefined;
  return { key: target?.key ?? '*', action: 'set', scope: target?.scope ?? 'global' };
}

/**
 * A JSON object as one line: pretty-printed text counts its indentation against the length a
 * value may have, which the same object typed on one line would not. Text that is not JSON goes
 * through as it is, to be refused with the same message as when typed.
 */
function compactJson(ctx: CommandContext, key: string, text: string): string {
  if (editorKind(ctx.config.definition(key)) !== 'json') return text;
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}
