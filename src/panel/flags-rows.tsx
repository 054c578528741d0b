import { OPERATORS, overridesText, PAYLOAD_TYPES } from '@config-bot/client/flags';
import { all, type Section } from './flags-edit.js';
import { FieldAlert } from './flags-list.js';
import { issuesFor, SectionForm, type SectionProps } from './flags-sections.js';

// The sections edited as rows (conditions, variants): each row a fieldset, the last one empty to add.

/** Rows of a list section: the refused form's rows, else the flag's, and one empty row to add. */
function rowsOf<T>(
  p: SectionProps,
  section: Section,
  fields: string[],
  current: T[],
  read: (t: T) => string[],
): string[][] {
  if (p.refused?.section === section) {
    const cols = fields.map((f) => all(p.refused?.body ?? {}, f));
    return (cols[0] ?? []).map((_, i) => cols.map((c) => c[i] ?? ''));
  }
  return [...current.map(read), fields.map(() => '')];
}

export function ConditionsSection(p: SectionProps) {
  const is = issuesFor(p, 'conditions');
  const rows = rowsOf(p, 'conditions', ['attribute', 'operator', 'values'], p.f.conditions, (c) => [
    c.attribute,
    c.operator,
    c.values.join(', '),
  ]);
  // A ticked box sends its row's number: the refused form's, else the flag's own.
  const ticked = (field: 'inverted' | 'caseInsensitive', i: number): boolean =>
    p.refused?.section === 'conditions'
      ? all(p.refused.body ?? {}, field).includes(String(i))
      : p.f.conditions[i]?.[field] === true;
  return (
    <SectionForm
      {...p}
      section="conditions"
      title="Conditions"
      hint="All must hold. Values are comma-separated (one for regex and comparisons); the last row adds one."
    >
      <FieldAlert issues={is} field="conditions" />
      {rows.map(([attribute = '', operator = '', values = ''], i) => (
        <fieldset class="fl-row fl-row-item">
          <legend>{i < p.f.conditions.length ? `Condition ${i + 1}` : 'New condition'}</legend>
          <label>
            Attribute <input name="attribute" value={attribute} placeholder="plan" maxLength={64} />
          </label>
          <label>
            Operator{' '}
            <select name="operator">
              {OPERATORS.map((o) => (
                <option selected={o === (operator || 'in')}>{o}</option>
              ))}
            </select>
          </label>
          <label class="fl-grow">
            Values <input name="values" value={values} placeholder="pro, team" />
          </label>
          <label class="fl-inline" title="Holds when the operator does not">
            <input type="checkbox" name="inverted" value={String(i)} checked={ticked('inverted', i)} /> Not
          </label>
          <label
            class="fl-inline"
            title="equals, contains, starts_with, ends_with, regex: compare lower-cased"
          >
            <input
              type="checkbox"
              name="caseInsensitive"
              value={String(i)}
              checked={ticked('caseInsensitive', i)}
            />{' '}
            Any case
          </label>
          {i < p.f.conditions.length && (
            <label class="fl-inline">
              <input type="checkbox" name="remove" value={String(i)} /> Remove
            </label>
          )}
          <FieldAlert issues={is} field={`conditions.${i}`} />
        </fieldset>
      ))}
    </SectionForm>
  );
}

export function VariantsSection(p: SectionProps) {
  const is = issuesFor(p, 'variants');
  const rows = rowsOf(
    p,
    'variants',
    ['variant', 'weight', 'payloadType', 'payload', 'pinned'],
    p.f.variants,
    (v) => [
      v.name,
      String(v.weight),
      v.payload?.type ?? '',
      v.payload?.value ?? '',
      overridesText(v.overrides),
    ],
  );
  return (
    <SectionForm
      {...p}
      section="variants"
      title="Variants"
      hint="Weights in thousandths adding up to 1000 (500 is half). Pinned: contexts with these values get the variant, before the weights. The last row adds one."
    >
      <FieldAlert issues={is} field="variants" />
      {rows.map(([name = '', weight = '', type = '', value = '', pinned = ''], i) => (
        <fieldset class="fl-row fl-row-item">
          <legend>{i < p.f.variants.length ? `Variant ${i + 1}` : 'New variant'}</legend>
          <label>
            Name <input name="variant" value={name} maxLength={64} />
          </label>
          <label>
            Weight <input name="weight" value={weight} inputMode="numeric" size={5} />
          </label>
          <label>
            Payload{' '}
            <select name="payloadType">
              <option value="">none</option>
              {PAYLOAD_TYPES.map((t) => (
                <option selected={t === type}>{t}</option>
              ))}
            </select>
          </label>
          <label class="fl-grow">
            Value{' '}
            <textarea name="payload" rows={1}>
              {value}
            </textarea>
          </label>
          <label class="fl-grow" title="Contexts with these values get this variant, before the weights">
            Pinned to <input name="pinned" value={pinned} placeholder="plan=enterprise; userId=42" />
          </label>
          {i < p.f.variants.length && (
            <label class="fl-inline">
              <input type="checkbox" name="remove" value={String(i)} /> Remove
            </label>
          )}
          <FieldAlert issues={is} field={`variants.${i}`} />
        </fieldset>
      ))}
    </SectionForm>
  );
}
