import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The hash the first row of the chain links to. */
export const CHAIN_START = '0'.repeat(64);

/** The fields the chain adds to an audit row. */
export interface ChainLink {
  /** The row's place in the chain: 1, 2, 3... without gaps. */
  seq: number;
  /** The hash of the row before it (CHAIN_START for the first). */
  prevHash: string;
  /** The id of the row before it, so a deleted row is named by the one after it. */
  prevId: string | null;
  /** sha256 over the row's canonical content, `prevHash` included (see rowHash). */
  hash: string;
}

/**
 * A stored value in a form JSON can carry without losing what BSON told apart: dates and object
 * ids become tagged objects, so a date and the string of its ISO time do not hash alike.
 * An undefined field or array item counts as null: the driver stores it so (ignoreUndefined is
 * off), and the row read back must hash as it did when written.
 */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return { $date: value.toISOString() };
  const tagged = value as { _bsontype?: string; toHexString?: () => string; toString(): string };
  if (tagged._bsontype === 'ObjectId' && tagged.toHexString) return { $oid: tagged.toHexString() };
  if (tagged._bsontype) return { [`$${tagged._bsontype}`]: tagged.toString() };
  if (Buffer.isBuffer(value)) return { $binary: value.toString('base64') };
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : plain(v)));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === undefined ? null : plain(v)]));
}

const sha256 = (value: unknown): string =>
  createHash('sha256')
    .update(canonicalize(plain(value)) ?? '')
    .digest('hex');

/**
 * What an audit row holds in place of a value removed after the row was chained (a key declared
 * sensitive after its values were audited in clear): the value's digest, so the row still
 * verifies and nothing else about it can change.
 */
export interface RedactedValue {
  redacted: true;
  digest: string;
}

export const isRedacted = (v: unknown): v is RedactedValue =>
  typeof v === 'object' &&
  v !== null &&
  (v as RedactedValue).redacted === true &&
  typeof (v as RedactedValue).digest === 'string' &&
  Object.keys(v).length === 2;

/** A value's redacted form. */
export const redacted = (value: unknown): RedactedValue => ({ redacted: true, digest: sha256(value) });

/** The fields whose values the chain covers by digest, so that a value can be redacted later. */
const VALUE_FIELDS = ['oldValue', 'newValue'] as const;

/**
 * The hash of an audit row: sha256 over its content (every field but `hash` itself, `_id`, `seq`
 * and `prevHash` included; a value by its digest) in RFC 8785 canonical JSON (the `canonicalize`
 * package, by the RFC's author: key order and number forms fixed, so the same row read back from
 * MongoDB or FerretDB hashes alike). Hex.
 */
export function rowHash(row: Readonly<Record<string, unknown>>): string {
  const { hash: _ignored, ...content }: Record<string, unknown> = row;
  for (const field of VALUE_FIELDS) {
    if (!Object.hasOwn(content, field)) continue;
    const v = content[field] ?? null;
    content[field] = { digest: isRedacted(v) ? v.digest : sha256(v) };
  }
  return sha256(content);
}
