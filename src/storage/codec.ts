import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { keyOfSlot } from './slots.js';

/** How values travel between the service and the database: sensitive ones encrypted. */
export interface ValueCodec {
  encode(key: string, value: unknown): unknown;
  decode(key: string, stored: unknown): unknown;
  /**
   * The stored form re-encrypted with the current key, or undefined when it already is (or is not
   * encrypted at all). Used by key rotation.
   */
  reseal(key: string, stored: unknown): unknown;
}

export const plainCodec: ValueCodec = {
  encode: (_k, v) => (v instanceof Undecryptable ? v.stored : v),
  decode(key, v) {
    if (isSealed(v))
      throw new DecryptError(
        `${key} is stored encrypted, but no CONFIG_ENCRYPTION_KEYS is set: set the key it was written with`,
      );
    return v;
  },
  reseal: () => undefined,
};

const ALGORITHM = 'aes-256-gcm';
/** v1 carried no key id (one key only); v2 names the key that wrote it. */
const MARK_V1 = 'aes-256-gcm:v1';
const MARK_V2 = 'aes-256-gcm:v2';

interface Sealed {
  enc: typeof MARK_V1 | typeof MARK_V2;
  /** Which key wrote it (v2): the first 8 hex digits of the key's SHA-256, never the key. */
  kid?: string;
  iv: string;
  tag: string;
  data: string;
}

export const isSealed = (v: unknown): v is Sealed =>
  typeof v === 'object' &&
  v !== null &&
  ((v as { enc?: unknown }).enc === MARK_V1 || (v as { enc?: unknown }).enc === MARK_V2);

/** Raised when a stored value cannot be decrypted with any configured key. */
export class DecryptError extends Error {
  override name = 'DecryptError';
}

/**
 * A stored sensitive value this process cannot decrypt (it lacks the key it was written with). It
 * stands in for the value wherever this process reads one, so that one secret it cannot open
 * never stops it following every other change: it is served masked, never as a value, and the
 * stored form is kept as it was (encoding it gives that form back, so copies stay encrypted).
 */
export class Undecryptable {
  constructor(
    /** The stored (sealed) form, untouched. */
    readonly stored: unknown,
    /** Why it cannot be opened, naming the key id it needs. */
    readonly reason: string,
  ) {}
}

/** The value of a stored form, or an Undecryptable standing in for it; never throws DecryptError. */
export function openLeniently(codec: ValueCodec, key: string, stored: unknown): unknown {
  try {
    return codec.decode(key, stored);
  } catch (err) {
    if (err instanceof DecryptError) return new Undecryptable(stored, err.message);
    throw err;
  }
}

/** A key's public id: safe to store and log, it identifies the key without revealing it. */
export function keyId(secret: Buffer): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 8);
}

/** One encryption key: 32 bytes, as 64 hex characters or base64. */
export function parseEncryptionKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32)
    throw new Error(
      'must be 32 bytes: 64 hex characters or 44 base64 characters (generate one with: openssl rand -base64 32)',
    );
  return key;
}

/**
 * AES-256-GCM with a random IV per write; the key name is authenticated data, so a ciphertext
 * copied onto another key does not decrypt. New values are sealed with the first of `secrets`;
 * stored ones are opened with the key their id names (or, for v1, whichever works), so keys can
 * be rotated without downtime. Values of other keys, and null (unset), pass through unchanged.
 */
export function encryptingCodec(sensitiveKeys: ReadonlySet<string>, secrets: readonly Buffer[]): ValueCodec {
  const [current] = secrets;
  if (!current) return plainCodec;
  const byId = new Map(secrets.map((s) => [keyId(s), s]));
  const currentId = keyId(current);

  const seal = (key: string, value: unknown): Sealed => {
    const iv = randomBytes(12);
    const cipher = createCipheriv(ALGORITHM, current, iv);
    cipher.setAAD(Buffer.from(key));
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return {
      enc: MARK_V2,
      kid: currentId,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
  };

  const sealOrKeep = (key: string, value: unknown): unknown =>
    value instanceof Undecryptable ? value.stored : seal(key, value);

  const open = (key: string, stored: Sealed): unknown => {
    const named = stored.kid ? byId.get(stored.kid) : undefined;
    const candidates = stored.kid ? (named ? [named] : []) : secrets;
    for (const secret of candidates) {
      try {
        const decipher = createDecipheriv(ALGORITHM, secret, Buffer.from(stored.iv, 'base64'));
        decipher.setAAD(Buffer.from(key));
        decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
        const text = Buffer.concat([
          decipher.update(Buffer.from(stored.data, 'base64')),
          decipher.final(),
        ]).toString('utf8');
        return JSON.parse(text) as unknown;
      } catch {
        // the next key, if any
      }
    }
    throw new DecryptError(
      stored.kid && !named
        ? `Cannot decrypt the stored value of ${key}: it was written with key id ${stored.kid}, which is not in CONFIG_ENCRYPTION_KEYS (listed: ${[...byId.keys()].join(', ')})`
        : `Cannot decrypt the stored value of ${key}: none of CONFIG_ENCRYPTION_KEYS is the key it was written with`,
    );
  };

  return {
    encode: (key, value) =>
      !sensitiveKeys.has(keyOfSlot(key)) || value === undefined || value === null
        ? value
        : sealOrKeep(key, value),
    decode: (key, stored) => (isSealed(stored) ? open(key, stored) : stored),
    reseal(key, stored) {
      if (!sensitiveKeys.has(keyOfSlot(key)) || stored === undefined || stored === null) return undefined;
      if (isSealed(stored)) return stored.kid === currentId ? undefined : seal(key, open(key, stored));
      // A sensitive value stored in clear (written before the key was declared sensitive).
      return seal(key, stored);
    },
  };
}
