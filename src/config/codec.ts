import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** How values travel between the service and the database: sensitive ones encrypted. */
export interface ValueCodec {
  encode(key: string, value: unknown): unknown;
  decode(key: string, stored: unknown): unknown;
}

export const plainCodec: ValueCodec = { encode: (_k, v) => v, decode: (_k, v) => v };

const ALGORITHM = 'aes-256-gcm';
const MARK = 'aes-256-gcm:v1';

interface Sealed {
  enc: typeof MARK;
  iv: string;
  tag: string;
  data: string;
}

const isSealed = (v: unknown): v is Sealed =>
  typeof v === 'object' && v !== null && (v as { enc?: unknown }).enc === MARK;

/** CONFIG_ENCRYPTION_KEY: 32 bytes, as 64 hex characters or base64. */
export function parseEncryptionKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32)
    throw new Error('must be 32 bytes: 64 hex characters or 44 base64 characters (openssl rand -base64 32)');
  return key;
}

/**
 * AES-256-GCM with a random IV per write; the key name is authenticated data, so a ciphertext
 * copied onto another key does not decrypt. Values of other keys pass through unchanged.
 */
export function encryptingCodec(sensitiveKeys: ReadonlySet<string>, secret: Buffer): ValueCodec {
  return {
    encode(key, value) {
      if (!sensitiveKeys.has(key) || value === undefined) return value;
      const iv = randomBytes(12);
      const cipher = createCipheriv(ALGORITHM, secret, iv);
      cipher.setAAD(Buffer.from(key));
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      const sealed: Sealed = {
        enc: MARK,
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        data: data.toString('base64'),
      };
      return sealed;
    },
    decode(key, stored) {
      if (!isSealed(stored)) return stored;
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
        throw new Error(
          `Cannot decrypt the stored value of ${key}: CONFIG_ENCRYPTION_KEY is not the key it was written with`,
        );
      }
    },
  };
}
