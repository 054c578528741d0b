import type { SigningKey, TrustedKey } from '../audit/signing.js';
import { AuditTrail } from '../audit/trail.js';
import { AuditLog } from './audit-log.js';
import { ChangeBus } from '../changes/bus.js';
import { encryptingCodec, type ValueCodec } from '../storage/codec.js';
import { bindModels } from '../storage/config-models.js';
import { ConfigStore } from '../storage/config-store.js';
import type { DbConnection } from '../storage/connection.js';
import { DatabaseHealth } from '../storage/health.js';
import type { EnvOverride } from './env-overrides.js';
import { LastKnownGood } from './last-known-good.js';
import { LiveValues } from './live-values.js';
import type { ImpactLevel, Registry } from './registry.js';
import { Resolution } from './resolution.js';
import type { CrossKeyRule } from './rules.js';

export interface ConfigServiceOptions {
  registry: Registry;
  conn: DbConnection;
  /** Retries of a writer that lost a race before it reports a conflict. */
  writeRetries?: number;
  /** CONFIG_ENCRYPTION_KEYS: the first encrypts new sensitive values; every one is tried for stored ones. */
  encryptionKeys?: readonly Buffer[];
  /** Whether the database answers; shared with the rest of the process. One is made when omitted. */
  health?: DatabaseHealth;
  /** Local files (in DATA_DIR): the last-known-good copy, and audit rows waiting out an outage. */
  files?: { lastKnownGood: string; auditQueue: string; database: string };
  /** CONFIG_OVERRIDE_<KEY> values of this process's environment: they win over anything stored. */
  overrides?: readonly EnvOverride[];
  /** Rules over several keys every write must keep; default: the shipped ones whose keys exist. */
  rules?: readonly CrossKeyRule[];
  /** ENVIRONMENTS: the environments values may differ in. Default: production. */
  environments?: readonly string[];
  /** APP_ENVIRONMENT: the environment this process reads values for. Default: the first. */
  environment?: string;
  /** APPROVALS_REQUIRED: approvals per impact level (default none: every change applies at once). */
  approvals?: Partial<Record<ImpactLevel, number>>;
  /** APPROVAL_TTL: how long a change request stays open. Default 24 h. */
  approvalTtlMs?: number;
  /** The process's change bus (one is made when omitted). */
  bus?: ChangeBus;
  /** AUDIT_SIGNING_KEY and AUDIT_TRUSTED_KEYS: who signs the audit chain's checkpoints, and whose are trusted. */
  auditKeys?: { signing?: SigningKey; trusted?: readonly TrustedKey[] };
}

/** What a service is made of, built once before the reader it is (see ConfigService). */
export interface Parts {
  bus: ChangeBus;
  audit: AuditLog;
  trail: AuditTrail;
  registry: Registry;
  health: DatabaseHealth;
  codec: ValueCodec;
  store: ConfigStore;
  copy: LastKnownGood | undefined;
  values: LiveValues;
  resolution: Resolution;
  overrides: ReadonlyMap<string, EnvOverride>;
  environments: readonly string[];
  environment: string;
}

export function partsOf(opts: ConfigServiceOptions): Parts {
  const environments = opts.environments ?? ['production'];
  const environment = opts.environment ?? environments[0] ?? 'production';
  const sensitive = new Set([...opts.registry.values()].filter((d) => d.sensitive).map((d) => d.key));
  const codec = encryptingCodec(sensitive, opts.encryptionKeys ?? []);
  const store = new ConfigStore(bindModels(opts.conn), codec, (key) => sensitive.has(key));
  const copy = opts.files
    ? new LastKnownGood(opts.files.lastKnownGood, opts.files.database, codec)
    : undefined;
  const bus = opts.bus ?? new ChangeBus();
  const health = opts.health ?? new DatabaseHealth();
  const values = new LiveValues(opts.registry, store, copy, bus);
  return {
    bus,
    registry: opts.registry,
    health,
    audit: new AuditLog(
      store.audits,
      opts.registry,
      health,
      opts.files ? { queueFile: opts.files.auditQueue } : {},
    ),
    trail: new AuditTrail(store.audits, store.checkpoints, opts.auditKeys?.signing, opts.auditKeys?.trusted),
    codec,
    store,
    copy,
    values,
    resolution: new Resolution(values, opts.registry, environment),
    overrides: new Map((opts.overrides ?? []).map((o) => [o.key, o])),
    environments,
    environment,
  };
}
