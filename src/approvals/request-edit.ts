import { UserError } from '../base/errors.js';
import { MASK, present, sameValue } from '../config/present.js';
import { parseTyped } from '../config/proposals.js';
import type { RegisteredKey } from '../config/registry.js';
import type { ChangeRequest, RequestChange } from './requests.js';

/**
 * The change of a single-key set request with the value `text` instead, parsed and checked by the
 * key's rules as a typed set is (cross-key rules are checked again when it applies). Refuses
 * other requests and a value the request already proposes. Shared by every surface that edits
 * a request (Discord, the panel).
 */
export function editedChange(
  definition: (key: string) => RegisteredKey,
  r: ChangeRequest,
  text: string,
): { changes: RequestChange[]; warnings: string[] } {
  const c = r.changes[0];
  const context = { key: `request:${r.id}`, action: 'request-edit' };
  if (!editable(r) || !c)
    throw new UserError(
      'INVALID_VALUE',
      `${r.id} is a ${r.kind} of ${r.changes.length} change(s): only a set of one key can be edited. Withdraw it and make a new one.`,
      context,
    );
  const def = definition(c.key);
  const parsed = parseTyped(def, c.scope, text);
  if (sameValue(def, parsed.value, c.value))
    throw new UserError(
      'UNCHANGED',
      `${r.id} already proposes ${def.sensitive ? 'that value' : present(def, parsed.value)} for ${def.key}. Nothing was changed.`,
      context,
    );
  const after = def.sensitive ? MASK : present(def, parsed.value);
  // The new value's warnings replace the old one's.
  const { warnings: _old, ...rest } = c;
  const warnings = parsed.warnings.length ? { warnings: parsed.warnings } : {};
  return { changes: [{ ...rest, value: parsed.value, after, ...warnings }], warnings: parsed.warnings };
}

/** Whether the requester can propose another value: a set of one key. */
export function editable(r: Pick<ChangeRequest, 'kind' | 'changes'>): boolean {
  return r.kind === 'set' && r.changes.length === 1;
}
