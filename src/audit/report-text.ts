import type { ChainBreak, ChainReport } from './verify.js';

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

function places(b: ChainBreak): string {
  return b.toSeq !== undefined && b.toSeq !== b.seq ? `rows ${b.seq}–${b.toSeq}` : `row ${b.seq}`;
}

/**
 * One break as a sentence: what broke, where (place and id), and what it means. Shared by the
 * script and Discord, which show the same findings.
 */
export function describeBreak(b: ChainBreak): string {
  const cp = b.checkpoint
    ? `the ${b.checkpoint.kind === 'genesis' ? 'first ' : ''}checkpoint of ${iso(b.checkpoint.at)}${b.checkpoint.source === 'file' ? ' (from the file)' : ''}`
    : '';
  switch (b.kind) {
    case 'edited':
      return `row ${b.seq} (id ${b.id}): content edited; it no longer matches the hash the chain recorded for it`;
    case 'missing':
      return `${places(b)} missing${b.id ? ` (id ${b.id}, as the next row recorded)` : ''}: deleted from the chain`;
    case 'inserted':
      return b.seq !== undefined
        ? `row id ${b.id}: inserted at place ${b.seq}, which another row holds`
        : `row id ${b.id}: inserted; it has no place in the chain (written around it, or by a process of an older release)`;
    case 'checkpoint-forged':
      return `${cp} for row ${b.seq}: signature invalid (forged or altered); it is not trusted`;
    case 'checkpoint-untrusted':
      return `${cp} for row ${b.seq}: signed by a key that is not AUDIT_SIGNING_KEY's nor in AUDIT_TRUSTED_KEYS; it is not trusted`;
    case 'checkpoint-mismatch':
      return `row ${b.seq}${b.id ? ` (id ${b.id})` : ''}: differs from ${cp}; the chain was rewritten up to this row`;
    case 'truncated':
      return `${places(b)} missing: ${cp} covers row ${b.toSeq}, but the chain ends at row ${(b.seq ?? 1) - 1} (rows deleted from the end)`;
  }
}

const count = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The check's outcome in a few words (`intact`, `1 break`, `3 breaks`), as its audit row records it. */
export const outcomeText = (r: ChainReport): string =>
  r.intact ? 'intact' : count(r.breaks.length + r.moreBreaks, 'break');

/** The report's summary and findings, as lines. */
export function reportLines(r: ChainReport): string[] {
  const range =
    r.from === 1 && r.to === r.headSeq
      ? 'the whole chain'
      : r.from > r.headSeq
        ? `from row ${r.from}, past the chain's end at row ${r.headSeq}`
        : `rows ${r.from}–${r.to}`;
  const lines = [
    `${r.intact ? 'Intact' : 'BROKEN'}: checked ${range} (${count(r.rowsChecked, 'row')}, ${count(r.checkpointsChecked, 'signed checkpoint')}${r.unsignedCheckpoints ? `, ${r.unsignedCheckpoints} unsigned` : ''}).`,
  ];
  if (r.genesis)
    lines.push(
      r.genesis.legacyRows
        ? `The chain began ${iso(r.genesis.at)}: the ${r.genesis.legacyRows} rows written before it were sealed then, so an edit made to them before that time would not show.`
        : `The chain began ${iso(r.genesis.at)} with no earlier rows.`,
    );
  else lines.push('The chain has not begun on this database yet (a bot or API process begins it at start).');
  if (r.uncheckedCheckpoints)
    lines.push(
      `${count(r.uncheckedCheckpoints, 'signed checkpoint')} not checked: no public key was given (set AUDIT_SIGNING_KEY or AUDIT_TRUSTED_KEYS, or pass --public-key).`,
    );
  else if (!r.checkpointsChecked)
    lines.push(
      'No signed checkpoint: a rewrite of the whole chain would not show. Set AUDIT_SIGNING_KEY (npm run audit:verify -- --new-key makes one).',
    );
  for (const b of r.breaks) lines.push(`- ${describeBreak(b)}`);
  if (r.moreBreaks) lines.push(`- …and ${r.moreBreaks} more`);
  return lines;
}
