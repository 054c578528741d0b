import type { CheckpointDoc } from '../storage/audit-checkpoints.js';

/**
 * What a checkpoint's signature covers, as text: a fixed label, the head's place and hash, the
 * time, and for the first checkpoint how many earlier rows were sealed under it.
 */
export function checkpointText(
  c: Pick<CheckpointDoc, 'kind' | 'seq' | 'hash' | 'at' | 'legacyRows'>,
): string {
  return [
    'config-bot audit checkpoint v1',
    `kind ${c.kind}`,
    `seq ${c.seq}`,
    `hash ${c.hash}`,
    `at ${c.at.toISOString()}`,
    ...(c.kind === 'genesis' ? [`legacy ${c.legacyRows ?? 0}`] : []),
  ].join('\n');
}

/**
 * A checkpoint as one line, for keeping outside the database (the alert channel, export files)
 * and handing back to `npm run audit:verify -- --checkpoints FILE`.
 */
export function checkpointLine(c: CheckpointDoc): string {
  return [
    'audit-checkpoint',
    `kind=${c.kind}`,
    `seq=${c.seq}`,
    `hash=${c.hash}`,
    `at=${c.at.toISOString()}`,
    ...(c.kind === 'genesis' ? [`legacy=${c.legacyRows ?? 0}`] : []),
    ...(c.keyId && c.signature ? [`key=${c.keyId}`, `sig=${c.signature}`] : []),
  ].join(' ');
}

/**
 * The checkpoints in a text (lines as checkpointLine writes them; anything else on a line, or
 * other lines, ignored, so a pasted Discord message or an export's file reads as is). A line
 * that starts like one but is incomplete is an error naming its line number.
 */
export function parseCheckpointLines(text: string): { checkpoints: CheckpointDoc[]; problems: string[] } {
  const checkpoints: CheckpointDoc[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const at = line.indexOf('audit-checkpoint ');
    if (at < 0) return;
    const fields = new Map(
      line
        .slice(at)
        .split(/\s+/)
        .filter((part) => part.includes('='))
        // The first `=` only: a base64 signature ends with some.
        .map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)] as const),
    );
    const kind = fields.get('kind');
    const seq = Number(fields.get('seq'));
    const hash = fields.get('hash') ?? '';
    const when = new Date(fields.get('at') ?? '');
    if (
      (kind !== 'genesis' && kind !== 'periodic') ||
      !Number.isInteger(seq) ||
      seq < 0 ||
      !/^[0-9a-f]{64}$/.test(hash) ||
      Number.isNaN(when.getTime())
    ) {
      problems.push(`line ${i + 1}: not a complete checkpoint (kind, seq, hash and at are needed)`);
      return;
    }
    const legacy = fields.get('legacy');
    const key = fields.get('key');
    const sig = fields.get('sig');
    checkpoints.push({
      _id: kind === 'genesis' ? 'genesis' : `cp-${seq}`,
      kind,
      seq,
      hash,
      at: when,
      ...(legacy !== undefined ? { legacyRows: Number(legacy) } : {}),
      ...(key && sig ? { keyId: key, signature: sig } : {}),
    });
  });
  return { checkpoints, problems };
}
