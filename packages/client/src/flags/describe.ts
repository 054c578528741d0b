/**
 * Conditions as people read and type them: one line per condition for views, diffs and
 * explanations, and the values of a condition from the comma-separated text forms take.
 */
import { SINGLE_VALUE_OPERATORS, type Condition, type Operator, type VariantOverride } from './model.js';

/** `plan in pro, team`; `not (email ends with @example.com, any case)`. */
export function conditionText(c: Condition, show: (value: string) => string = (v) => v): string {
  const values = c.values.map(show).join(', ');
  const rule = `${c.attribute} ${c.operator.replace(/_/g, ' ')}${values ? ` ${values}` : ' (no values)'}${
    c.caseInsensitive ? ', any case' : ''
  }`;
  return c.inverted ? `not (${rule})` : rule;
}

/**
 * A condition's values from text: comma-separated, trimmed; a single-value operator's text is
 * one value (a regular expression holds commas: `^\d{1,3}$`). An empty piece is kept, so the
 * flag's validation names it: a form left empty by mistake is refused, not read as "in nothing"
 * (which only a flag written as JSON, or imported from Unleash, says).
 */
export function conditionValues(operator: Operator | string, text: string): string[] {
  if (SINGLE_VALUE_OPERATORS.has(operator as Operator)) return [text.trim()];
  return text.split(',').map((v) => v.trim());
}

/** A variant's overrides as one line: `plan=pro, team; userId=42`. */
export function overridesText(overrides: readonly VariantOverride[] | undefined): string {
  return (overrides ?? []).map((o) => `${o.attribute}=${o.values.join(', ')}`).join('; ');
}

/**
 * Overrides from the line `overridesText` writes; each piece that is not `attribute=values` is
 * returned in `bad`, for the form to name. Names and values are checked with the flag.
 */
export function parseOverrides(text: string): { overrides: VariantOverride[]; bad: string[] } {
  const overrides: VariantOverride[] = [];
  const bad: string[] = [];
  for (const piece of text.split(';').map((p) => p.trim())) {
    if (!piece) continue;
    const eq = piece.indexOf('=');
    if (eq <= 0) bad.push(piece);
    else
      overrides.push({
        attribute: piece.slice(0, eq).trim(),
        values: conditionValues('in', piece.slice(eq + 1)),
      });
  }
  return { overrides, bad };
}
