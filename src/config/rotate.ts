import { DatabaseUnavailableError, UserError } from '../base/errors.js';
import { logger } from '../base/logger.js';
import { keyId, type ValueCodec } from '../storage/codec.js';
import type { Actor } from '../storage/config-models.js';
import { sameValue } from './present.js';
import type { Registry } from './registry.js';
import type { ConfigStore } from '../storage/config-store.js';

export interface RotationResult {
  /** Stored values this run re-encrypted with the current key. */
  resealed: number;
  /** Values another writer replaced while this run read them (already written with the current key). */
  skipped: number;
  /** Current values repaired after the rewrite (see verifyCurrent). */
  repaired: number;
  /** Whether this run wrote the audit row (the first run that finds everything on the current key). */
  audited: boolean;
  /** Values of sensitive keys found in clear in audit rows (audited before the key was sensitive), replaced by their digest. */
  redacted: number;
}

/**
 * Re-encrypts every stored value of a sensitive key (current values and versions; audit rows
 * hold none, and one audited before its key was sensitive is redacted) with the first of CONFIG_ENCRYPTION_KEYS, in place, so older keys can then be dropped. Safe to run
 * again at any point (a value already on the current key is left alone) and while bots run: each
 * value is replaced only if it is still the one read. Audited once per key: one row, whose id is
 * derived from the key id, however many runs it took.
 */
export async function rotateEncryption(
  store: ConfigStore,
  codec: ValueCodec,
  registry: Registry,
  currentKeyId: string,
  actor: Actor,
): Promise<RotationResult> {
  const result: RotationResult = { resealed: 0, skipped: 0, repaired: 0, audited: false, redacted: 0 };
  for await (const doc of store.sealedDocuments()) {
    if (!registry.get(doc.key)?.sensitive) continue;
    const next = codec.reseal(doc.key, doc.stored);
    if (next === undefined) continue;
    if (await store.replaceSealed(doc, next)) result.resealed++;
    else result.skipped++;
  }
  result.repaired = await verifyCurrent(store, registry);
  // Audit rows hold no sensitive value, but those audited before their key was declared sensitive.
  result.redacted = await store.audits.redactSensitive();
  result.audited = await store.audits.insertOnce(`rotate-key@${currentKeyId}`, {
    key: '*',
    action: 'rotate-key',
    status: 'success',
    actor,
    reason: `Every stored sensitive value is now encrypted with key ${currentKeyId} (${result.resealed} re-encrypted by the run that completed it)`,
    createdAt: new Date(),
  });
  logger.info(
    `Key rotation to ${currentKeyId}: ${result.resealed} values re-encrypted, ${result.skipped} changed meanwhile, ${result.repaired} current values repaired, ${result.redacted} audited values redacted`,
  );
  return result;
}

/**
 * FerretDB runs an update as a read followed by a write, so a rewrite racing a writer could leave
 * a current document holding an older value under a newer version number. Each sensitive key's
 * current value is compared with its version's and, if they differ, set from the version.
 */
async function verifyCurrent(store: ConfigStore, registry: Registry): Promise<number> {
  let repaired = 0;
  for (const def of registry.values()) {
    if (!def.sensitive) continue;
    const cur = await store.current(def.key);
    if (!cur) continue;
    const version = await store.version(def.key, cur.version);
    if (!version || sameValue(def, cur.value, version.value)) continue;
    if (await store.setCurrentValue(def.key, cur.version, version.value)) {
      repaired++;
      logger.warn(
        `${def.key}: current value differed from v${cur.version} after the rewrite; set from the version`,
      );
    }
  }
  return repaired;
}

/**
 * Re-encrypts every stored sensitive value with the first of `keys` (values, versions, audit
 * rows, change requests). Needs the database; ENCRYPTION_REQUIRED when no key is configured.
 */
export async function rotateAll(
  p: {
    store: ConfigStore;
    codec: ValueCodec;
    registry: Registry;
    requests: { reseal(reseal: (key: string, stored: unknown) => unknown): Promise<number> };
    keys: readonly Buffer[];
    attached: boolean;
  },
  actor: Actor,
): Promise<RotationResult & { keyId: string }> {
  const [current] = p.keys;
  if (!current)
    throw new UserError(
      'ENCRYPTION_REQUIRED',
      'CONFIG_ENCRYPTION_KEYS is not set: there is no key to re-encrypt with.',
    );
  if (!p.attached)
    throw new DatabaseUnavailableError(
      'not connected',
      'The database cannot be reached; nothing was re-encrypted.',
    );
  const id = keyId(current);
  const result = await rotateEncryption(p.store, p.codec, p.registry, id, actor);
  // Change requests keep proposed sensitive values sealed too.
  const requests = await p.requests.reseal((key, stored) => p.codec.reseal(key, stored));
  return { ...result, resealed: result.resealed + requests, keyId: id };
}
