import { fieldChanges, type FieldChange } from '../config/field-changes.js';
import { MASK, present } from '../config/present.js';
import type { RegisteredKey } from '../config/registry.js';

// How a change of a value reads in the panel: the history's diff between two versions and each
// audit row's old → new. A sensitive value is never shown (only that it changed); two JSON
// objects are compared field by field.

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const unset = (v: unknown) => v === null || v === undefined;

/** A value as text: formatted by its key (masked when sensitive), or as JSON (flags, unknown keys). */
export function valueText(def: RegisteredKey | undefined, v: unknown, max = 2000): string {
  const text = def ? present(def, v) : v === undefined ? '' : JSON.stringify(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Whether the two values are compared field by field (JSON objects of a key that is not sensitive). */
function comparesFields(def: RegisteredKey | undefined, a: unknown, b: unknown): boolean {
  if (def && (def.sensitive || def.type !== 'JSON object')) return false;
  // Rows of a sensitive key come masked from the audit view: a mask is never an object.
  return isObject(a) && isObject(b);
}

const json = (v: unknown) => (v === undefined ? 'undefined' : JSON.stringify(v));

function FieldList({ changes, max }: { changes: FieldChange[]; max: number }) {
  const order = { added: 0, removed: 1, changed: 2 } as const;
  const sorted = [...changes].sort((x, y) => order[x.kind] - order[y.kind]);
  const shown = sorted.slice(0, max);
  return (
    <ul class="hd-fields">
      {shown.map((c) => (
        <li class={`hd-${c.kind}`}>
          <span class="hd-mark" aria-hidden="true">
            {c.kind === 'added' ? '+' : c.kind === 'removed' ? '−' : '~'}
          </span>{' '}
          <code>{c.path}</code>{' '}
          {c.kind === 'added' && (
            <>
              added: <ins>{json(c.after)}</ins>
            </>
          )}
          {c.kind === 'removed' && (
            <>
              removed (was <del>{json(c.before)}</del>)
            </>
          )}
          {c.kind === 'changed' && (
            <>
              <del>{json(c.before)}</del> → <ins>{json(c.after)}</ins>
            </>
          )}
        </li>
      ))}
      {sorted.length > shown.length && <li class="hint">… and {sorted.length - shown.length} more</li>}
    </ul>
  );
}

/**
 * What changed from `before` to `after`: a sensitive value only as "changed", JSON objects field
 * by field (at most `max` fields, the rest counted), anything else as old → new.
 */
export function ValueDiff({
  def,
  before,
  after,
  max = 50,
}: {
  def: RegisteredKey | undefined;
  before: unknown;
  after: unknown;
  max?: number;
}) {
  if (before === undefined && after === undefined) return <span class="hint">no value</span>;
  const secret = def?.sensitive === true || before === MASK || after === MASK;
  if (secret && !unset(before) && !unset(after))
    return <span>changed (a sensitive value is never shown)</span>;
  if (comparesFields(def, before, after)) {
    const changes = fieldChanges(before as Record<string, unknown>, after as Record<string, unknown>);
    if (!changes.length) return <span class="hint">no difference</span>;
    return <FieldList changes={changes} max={max} />;
  }
  if (before === undefined)
    return (
      <span class="hd-change">
        <ins>{valueText(def, after)}</ins>
      </span>
    );
  const [a, b] = [valueText(def, before), valueText(def, after)];
  if (after !== undefined && a === b) return <span class="hint">no difference ({a})</span>;
  return (
    <span class="hd-change">
      <del>{a}</del>
      {after !== undefined && (
        <>
          {' → '}
          <ins>{b}</ins>
        </>
      )}
    </span>
  );
}
