import type { ModalSubmitInteraction } from 'discord.js';
import type { AuditAction } from '../../config/models.js';
import type { CommandContext, Invocation } from '../types.js';
import { EDITOR_FIELDS, editorKind, editorTarget } from './modal.js';
import { setValue } from './write.js';

// Access, the acknowledgement and the attempt limit are enforced before this runs: see
// `modalRequires` in commands/config.ts.

/**
 * The editor of `/config set` submitted (`config:edit:<KEY>:<scope>:<version>`): the value goes
 * through the same set as a typed one, refused if the key moved since the editor opened.
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
