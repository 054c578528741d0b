import { z } from 'zod';
import { UserError } from '../base/errors.js';
import { isSealed } from '../storage/codec.js';
import { GLOBAL, parseScope, slotId, type Scope } from '../config/scopes.js';
import type { ConfigService } from '../config/service.js';

/**
 * The export file: every key's description and the value of each scope holding one, sensitive
 * values left out or sealed under the current encryption key. Built, read back and turned into
 * a plan of changes here, for /config export and import and for the npm scripts alike.
 */

export const EXPORT_FORMAT = 'config-bot-export';
export const FORMAT_VERSION = 1;
/** The largest file an import reads (1 MB). */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Values in one file, all keys and scopes together. */
export const MAX_ENTRIES = 1000;
export const MAX_KEYS = 200;
export const MAX_DEPTH = 16;
export const MAX_STRING = 16_384;

/** What an export or import needs of the configuration service. */
export type TransferService = Pick<
  ConfigService,
  | 'keys'
  | 'definition'
  | 'isRegistered'
  | 'overrideScopes'
  | 'cachedVersion'
  | 'storedVersions'
  | 'environments'
  | 'environment'
  | 'scopeOf'
  | 'sealValue'
  | 'openValue'
  | 'put'
>;

const sealedSchema = z.strictObject({
  enc: z.enum(['aes-256-gcm:v1', 'aes-256-gcm:v2']),
  kid: z.string().max(16).optional(),
  iv: z.string().max(64),
  tag: z.string().max(64),
  data: z.string(),
});
const version = z.number().int().min(0);
const entrySchema = z.union([
  z.strictObject({ value: z.unknown(), version }),
  z.strictObject({ encrypted: sealedSchema, version }),
  z.strictObject({ omitted: z.literal('sensitive'), version }),
]);
export const fileSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  formatVersion: z.number(),
  exportedAt: z.string().max(40),
  environments: z.array(z.string().max(64)).max(100),
  scope: z.string().max(40).optional(),
  secrets: z.enum(['omitted', 'encrypted']),
  encryptionKeyId: z.string().max(16).optional(),
  keys: z.record(
    z.string().max(64),
    z.strictObject({
      description: z.string().optional(),
      sensitive: z.boolean().optional(),
      values: z.record(z.string().max(40), entrySchema),
    }),
  ),
});

export type ExportFile = z.infer<typeof fileSchema>;
export type ExportEntry = z.infer<typeof entrySchema>;

/** A slot's current value, as stored (sensitive values in clear: never shown, never logged). */
export interface SlotValue {
  key: string;
  scope: Scope;
  value: unknown;
  version: number;
}

/**
 * Every slot holding a value (the global one always: its default at version 0 when never set),
 * optionally only at `only`. Values come from the stored versions this process holds, in one read.
 */
export async function currentSlots(svc: TransferService, keys: readonly string[], only?: Scope) {
  const wanted: SlotValue[] = [];
  for (const key of keys)
    for (const scope of [GLOBAL, ...svc.overrideScopes(key)])
      if (!only || scope === only)
        wanted.push({ key, scope, value: undefined, version: svc.cachedVersion(key, scope) });
  const docs = await svc.storedVersions(
    wanted.filter((w) => w.version > 0).map((w) => ({ slot: slotId(w.key, w.scope), version: w.version })),
  );
  for (const w of wanted) {
    if (w.version === 0) w.value = svc.definition(w.key).default;
    else {
      const doc = docs.get(`${slotId(w.key, w.scope)}@${w.version}`);
      if (!doc)
        throw new UserError('UNAVAILABLE', `Version ${w.version} of ${w.key} could not be read; try again.`);
      w.value = doc.value;
    }
  }
  return wanted;
}

/** Seals a sensitive value; refuses when no encryption key is configured (never writes it in clear). */
function seal(svc: TransferService, key: string, scope: Scope, value: unknown) {
  const sealed = svc.sealValue(slotId(key, scope), value);
  if (!isSealed(sealed))
    throw new UserError(
      'ENCRYPTION_REQUIRED',
      'secrets:true exports sensitive values encrypted, but CONFIG_ENCRYPTION_KEYS is not set on this bot. Nothing was exported.',
    );
  return sealed;
}

export interface ExportOptions {
  /** Only this scope (as typed: global, env:<name>, guild:<id>). Default: every scope. */
  scope?: string | null;
  /** Include sensitive values, sealed under the current encryption key. Default: left out. */
  secrets?: boolean;
  now?: Date;
}

export interface BuiltExport {
  file: ExportFile;
  text: string;
  /** Values written, and sensitive ones left out. */
  values: number;
  omitted: number;
}

/** The export file of the configuration as this process holds it (one read of the stored versions). */
export async function buildExport(svc: TransferService, opts: ExportOptions = {}): Promise<BuiltExport> {
  const only = opts.scope
    ? parseScope(opts.scope, {
        key: '*',
        allowed: ['global', 'env', 'guild'],
        environments: svc.environments,
      })
    : undefined;
  const keys = svc.keys();
  const defs = keys.map((k) => svc.definition(k));
  // Refused up front, even when no sensitive key holds a value yet: the admin asked for secrets.
  const probe = defs.find((d) => d.sensitive);
  if (opts.secrets && probe) seal(svc, probe.key, GLOBAL, '');
  const file: ExportFile = {
    format: EXPORT_FORMAT,
    formatVersion: FORMAT_VERSION,
    exportedAt: (opts.now ?? new Date()).toISOString(),
    environments: [...svc.environments],
    ...(only ? { scope: only } : {}),
    secrets: opts.secrets ? 'encrypted' : 'omitted',
    keys: {},
  };
  for (const def of defs)
    file.keys[def.key] = {
      description: def.description,
      ...(def.sensitive ? { sensitive: true } : {}),
      values: {},
    };
  let values = 0;
  let omitted = 0;
  for (const s of await currentSlots(svc, keys, only)) {
    const def = svc.definition(s.key);
    const target = file.keys[s.key]?.values;
    if (!target) continue;
    if (!def.sensitive || s.value === null || s.value === undefined) {
      target[s.scope] = { value: s.value ?? null, version: s.version };
      values++;
    } else if (opts.secrets) {
      const sealed = seal(svc, s.key, s.scope, s.value);
      file.encryptionKeyId ??= sealed.kid;
      target[s.scope] = { encrypted: sealed, version: s.version };
      values++;
    } else {
      target[s.scope] = { omitted: 'sensitive', version: s.version };
      omitted++;
    }
  }
  return { file, text: `${JSON.stringify(file, null, 2)}\n`, values, omitted };
}

// ---- reading a file ------------------------------------------------------------------------
