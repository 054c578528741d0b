import { conditionText, type FlagDefinition, type Variant } from '@config-bot/client/flags';
import { preview } from '../base/text.js';

/**
 * What changed between two versions of a flag, one short line per field, for history, replies
 * and alerts. Field-by-field over the flag's known shape (a generic JSON diff would say
 * `/include/users/3` where an admin wants "include users: +1234…").
 */
export function flagChanges(before: FlagDefinition | undefined, after: FlagDefinition): string[] {
  if (!before) return ['created'];
  const out: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const scalar = (field: string, a: unknown, b: unknown, show: (v: unknown) => string = plain) => {
    if (!same(a, b)) out.push(`${field}: ${show(a)} → ${show(b)}`);
  };
  scalar('on', before.enabled, after.enabled, (v) => (v ? 'on' : 'off'));
  scalar('archived', before.archived, after.archived, (v) => (v ? 'yes' : 'no'));
  scalar('description', before.description, after.description);
  scalar('type', before.type, after.type);
  scalar('owner', before.owner, after.owner);
  scalar('impact', before.impact, after.impact);
  list(out, 'environments', before.environments, after.environments);
  for (const side of ['include', 'exclude'] as const)
    for (const what of ['users', 'roles', 'guilds'] as const)
      list(out, `${side} ${what === 'guilds' ? 'servers' : what}`, before[side][what], after[side][what]);
  list(
    out,
    'conditions',
    before.conditions.map((c) => conditionText(c)),
    after.conditions.map((c) => conditionText(c)),
  );
  scalar('rollout', before.rollout, after.rollout, (v) => `${String(v)}%`);
  scalar('stickiness', before.stickiness, after.stickiness);
  scalar('group', before.group, after.group);
  scalar('start', before.start, after.start);
  scalar('end', before.end, after.end);
  list(out, 'prerequisites', before.prerequisites, after.prerequisites);
  const listed = out.length;
  list(out, 'variants', before.variants.map(variantText), after.variants.map(variantText));
  // Reordered (which moves users between variants), or two long payloads that read the same cut short.
  if (out.length === listed && !same(before.variants, after.variants))
    out.push(`variants: ${after.variants.map((v) => v.name).join(', ')} (order or payloads changed)`);
  scalar('error threshold', before.errorThreshold, after.errorThreshold, thresholdText);
  return out;
}

/** `blue (500)`, `blue (500, json {"steps":1}, pinned plan=pro|team)`: a payload or override change is a change too. */
export function variantText(v: Variant): string {
  const pins = (v.overrides ?? []).map(
    (o) => `${o.attribute}=${o.values.map((x) => preview(x, 20)).join('|')}`,
  );
  return `${v.name} (${v.weight}${v.payload ? `, ${v.payload.type} ${preview(v.payload.value, 40)}` : ''}${
    pins.length ? `, pinned ${pins.join(' ')}` : ''
  })`;
}

export function thresholdText(t: unknown): string {
  if (!t || typeof t !== 'object') return 'none';
  const { errors, windowMs } = t as { errors: number; windowMs: number };
  return `${errors} errors in ${windowMs >= 60_000 && windowMs % 60_000 === 0 ? `${windowMs / 60_000} min` : `${windowMs / 1000} s`}`;
}

function plain(v: unknown): string {
  return v === undefined ? 'none' : typeof v === 'string' ? v : JSON.stringify(v);
}

function list(out: string[], field: string, a: readonly string[], b: readonly string[]): void {
  const added = b.filter((x) => !a.includes(x));
  const removed = a.filter((x) => !b.includes(x));
  if (!added.length && !removed.length) return;
  const parts = [...added.map((x) => `+${x}`), ...removed.map((x) => `-${x}`)];
  const shown = parts.slice(0, 5).join(', ');
  out.push(`${field}: ${shown}${parts.length > 5 ? ` and ${parts.length - 5} more` : ''}`);
}

/** A flag's state in a few words, for change requests: `on in production · 25%`. */
export function stateText(f: FlagDefinition): string {
  if (f.archived) return 'archived';
  if (!f.enabled) return 'off';
  return `on in ${f.environments.join(', ') || 'no environment'} · ${f.rollout}%`;
}
