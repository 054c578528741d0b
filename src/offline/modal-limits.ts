import { MODAL_LIMITS } from '../discord/limits.js';
import { required, tooLong, type LimitIssue } from './limits.js';

interface ModalPart {
  type?: number;
  custom_id?: unknown;
  label?: unknown;
  description?: unknown;
  style?: unknown;
  min_length?: unknown;
  max_length?: unknown;
  required?: unknown;
  value?: unknown;
  placeholder?: unknown;
  component?: ModalPart;
  components?: ModalPart[];
}

/**
 * Every limit a modal breaks, as Discord reports them: a title of 1-45, a custom id of 1-100,
 * 1-5 action rows each holding one text input (or labels holding one), text inputs with a
 * custom id, a label of 1-45, a paragraph or short style, lengths within 0-4000 and a value no
 * longer than their max_length.
 */
export function modalIssues(body: {
  title?: unknown;
  custom_id?: unknown;
  components?: unknown;
}): LimitIssue[] {
  const out: LimitIssue[] = [];
  const text = (path: LimitIssue['path'], v: unknown, max: number, needed: boolean) => {
    if (v === undefined && !needed) return;
    out.push(...required(path, v));
    if (typeof v === 'string') out.push(...tooLong(path, v, max));
  };
  text(['title'], body.title, MODAL_LIMITS.title, true);
  text(['custom_id'], body.custom_id, MODAL_LIMITS.customId, true);
  const rows = Array.isArray(body.components) ? (body.components as ModalPart[]) : [];
  if (rows.length < 1 || rows.length > MODAL_LIMITS.rows)
    out.push({
      path: ['components'],
      code: 'BASE_TYPE_BAD_LENGTH',
      message: `Must be between 1 and ${MODAL_LIMITS.rows} in length (this has ${rows.length}).`,
    });
  const seen = new Set<string>();
  rows.forEach((row, r) => {
    const at = ['components', r];
    let input: ModalPart | undefined;
    let inputAt: LimitIssue['path'] = at;
    if (row.type === 1) {
      const items = row.components ?? [];
      if (items.length !== 1 || items[0]?.type !== 4)
        out.push({
          path: [...at, 'components'],
          code: 'BASE_TYPE_BAD_LENGTH',
          message: `An action row of a modal holds exactly one text input (this has ${items.length} components).`,
        });
      input = items[0];
      inputAt = [...at, 'components', 0];
      if (input) text([...inputAt, 'label'], input.label, MODAL_LIMITS.label, true);
    } else if (row.type === 18) {
      text([...at, 'label'], row.label, MODAL_LIMITS.label, true);
      text([...at, 'description'], row.description, MODAL_LIMITS.description, false);
      input = row.component;
      inputAt = [...at, 'component'];
    } else {
      out.push({
        path: [...at, 'type'],
        code: 'UNION_TYPE_CHOICES',
        message: `Value of field "type" must be one of (1, 18) for this harness (this is ${String(row.type)}).`,
      });
    }
    if (!input || input.type !== 4) return;
    out.push(...textInputIssues(input, inputAt));
    if (typeof input.custom_id === 'string') {
      if (seen.has(input.custom_id))
        out.push({
          path: [...inputAt, 'custom_id'],
          code: 'COMPONENT_CUSTOM_ID_DUPLICATED',
          message: `Component custom id cannot be duplicated (${input.custom_id}).`,
        });
      seen.add(input.custom_id);
    }
  });
  return out;
}

function textInputIssues(input: ModalPart, at: LimitIssue['path']): LimitIssue[] {
  const out: LimitIssue[] = [...required([...at, 'custom_id'], input.custom_id)];
  if (typeof input.custom_id === 'string')
    out.push(...tooLong([...at, 'custom_id'], input.custom_id, MODAL_LIMITS.customId));
  if (input.style !== 1 && input.style !== 2)
    out.push({
      path: [...at, 'style'],
      code: 'BASE_TYPE_CHOICES',
      message: `Value must be one of (1, 2) (this is ${String(input.style)}).`,
    });
  const bound = (name: 'min_length' | 'max_length', least: number): number | undefined => {
    const v = input[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < least || v > MODAL_LIMITS.textLength) {
      out.push({
        path: [...at, name],
        code: 'NUMBER_TYPE_MAX',
        message: `Must be between ${least} and ${MODAL_LIMITS.textLength} (this is ${String(v)}).`,
      });
      return undefined;
    }
    return v;
  };
  const min = bound('min_length', 0);
  const max = bound('max_length', 1) ?? MODAL_LIMITS.textLength;
  if (min !== undefined && min > max)
    out.push({
      path: [...at, 'min_length'],
      code: 'BASE_TYPE_BAD_LENGTH',
      message: `min_length ${min} is more than max_length ${max}.`,
    });
  if (input.value !== undefined) {
    if (typeof input.value !== 'string')
      out.push({ path: [...at, 'value'], code: 'STRING_TYPE_CONVERT', message: 'Must be a string.' });
    else out.push(...tooLong([...at, 'value'], input.value, max));
  }
  if (typeof input.placeholder === 'string')
    out.push(...tooLong([...at, 'placeholder'], input.placeholder, MODAL_LIMITS.placeholder));
  if (input.required !== undefined && typeof input.required !== 'boolean')
    out.push({ path: [...at, 'required'], code: 'BOOLEAN_TYPE_CONVERT', message: 'Must be a boolean.' });
  return out;
}
