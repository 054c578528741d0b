import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/**
 * Ed25519 keys of audit checkpoints, from node:crypto (no library needed). A private key is given
 * as the base64 of its 32-byte seed (what `npm run audit:verify -- --new-key` prints) or as PKCS#8
 * PEM; a public key as the base64 of its 32 bytes.
 */

/** The DER header of a PKCS#8 Ed25519 private key; the 32-byte seed follows it. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as base64 of its 32 bytes (what verifiers are given). */
  publicText: string;
  /** A short name of the public key: the first 16 hex digits of its sha256. */
  id: string;
}

/** A public key trusted to sign checkpoints, with its id. */
export interface TrustedKey {
  id: string;
  key: KeyObject;
}

/** Why a key's text was refused (no secret repeated). */
export class KeyFormatError extends Error {}

function decodeBytes(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-f]{64}$/i.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t))
    return Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return undefined;
}

const rawPublic = (key: KeyObject): Buffer => Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url');

/** The id of a public key (see SigningKey.id). */
export const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256').update(rawPublic(publicKey)).digest('hex').slice(0, 16);

/** A signing key from its text (AUDIT_SIGNING_KEY). Throws KeyFormatError. */
export function parseSigningKey(text: string): SigningKey {
  let privateKey: KeyObject;
  if (text.includes('-----BEGIN')) {
    try {
      privateKey = createPrivateKey(text.replace(/\\n/g, '\n'));
    } catch {
      throw new KeyFormatError('is not a readable PEM private key');
    }
    if (privateKey.asymmetricKeyType !== 'ed25519')
      throw new KeyFormatError(
        `is a ${privateKey.asymmetricKeyType ?? 'non-Ed25519'} key; an Ed25519 key is needed`,
      );
  } else {
    const seed = decodeBytes(text);
    if (seed?.length !== 32)
      throw new KeyFormatError(
        'is not an Ed25519 key: give the base64 of a 32-byte seed, or a PEM private key',
      );
    privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519, seed]),
      format: 'der',
      type: 'pkcs8',
    });
  }
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicText: rawPublic(publicKey).toString('base64'),
    id: keyIdOf(publicKey),
  };
}

/** A public key from the base64 of its 32 bytes (AUDIT_TRUSTED_KEYS, --public-key). Throws KeyFormatError. */
export function parsePublicKey(text: string): TrustedKey {
  const bytes = decodeBytes(text);
  if (bytes?.length !== 32)
    throw new KeyFormatError(`\`${text.slice(0, 60)}\` is not an Ed25519 public key (base64 of 32 bytes)`);
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
    format: 'jwk',
  });
  return { id: keyIdOf(key), key };
}

/** Public keys, comma-separated (AUDIT_TRUSTED_KEYS). Throws KeyFormatError. */
export const parsePublicKeys = (text: string): TrustedKey[] =>
  text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(parsePublicKey);

/** A new signing key's text (the base64 seed), for `--new-key`. */
export function newSigningKeyText(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return der.subarray(PKCS8_ED25519.length).toString('base64');
}

export const signText = (key: SigningKey, text: string): string =>
  sign(null, Buffer.from(text, 'utf8'), key.privateKey).toString('base64');

export function verifyText(publicKey: KeyObject, text: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(text, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    // A signature of the wrong length or form is simply not a valid one.
    return false;
  }
}
