// microdiff rather than jsondiffpatch: it returns a flat list of {type, path, value, oldValue},
// which is exactly the added/removed/changed list the surfaces show, with no delta format to
// decode. It has no dependencies, no install scripts, ships its own types, and is a few hundred lines.
import microdiff from 'microdiff';

/** One field of a JSON object that differs between two versions. */
export interface FieldChange {
  kind: 'added' | 'removed' | 'changed';
  /** `limits.daily`, `hosts[2]`. */
  path: string;
  before?: unknown;
  after?: unknown;
}

/** The fields of two JSON objects that differ, as paths with their old and new values. */
export function fieldChanges(before: Record<string, unknown>, after: Record<string, unknown>): FieldChange[] {
  return microdiff(before, after).map((d) => {
    const path = pathText(d.path);
    if (d.type === 'CREATE') return { kind: 'added', path, after: d.value as unknown };
    if (d.type === 'REMOVE') return { kind: 'removed', path, before: d.oldValue as unknown };
    return { kind: 'changed', path, before: d.oldValue as unknown, after: d.value as unknown };
  });
}

/** `a.b[0]`; a name that is not a plain identifier is quoted: `a["x.y"]`. */
function pathText(path: readonly (string | number)[]): string {
  return path
    .map((p, i) =>
      typeof p === 'number'
        ? `[${p}]`
        : /^[A-Za-z_$][\w$]*$/.test(p)
          ? `${i ? '.' : ''}${p}`
          : `[${JSON.stringify(p)}]`,
    )
    .join('');
}
