import { Schema, type Connection, type Model } from 'mongoose';

/**
 * `unset` removes an override (a non-global scope), so the key inherits again. `create`,
 * `archive` and `kill` (the automatic kill, by the system) are versions of feature flags.
 * `restore` writes a value from a snapshot, `import` one from an export file.
 */
export const VERSION_ACTIONS = [
  'init',
  'set',
  'rollback',
  'reset',
  'unset',
  'expire',
  'scheduled',
  'create',
  'archive',
  'kill',
  'restore',
  'import',
] as const;
export type VersionAction = (typeof VERSION_ACTIONS)[number];
export const AUDIT_ACTIONS = [
  ...VERSION_ACTIONS,
  'view',
  'list',
  'history',
  'status',
  'schedule',
  'cancel',
  'export',
  // A dry run of an import, or one with nothing to change: what was checked, nothing written.
  'import-check',
  'rotate-key',
  // A check of the audit log's hash chain (/config audit verify).
  'audit-verify',
  'token-create',
  'token-revoke',
  'token-list',
  // A one-time login link to the web panel (/config panel).
  'panel-login',
  'flag-evaluate',
  'flag-error',
  'flag-turn-on',
  'snapshot-create',
  'snapshot-restore',
  // Steps of change requests (src/config/requests.ts).
  'request-create',
  'request-approve',
  'request-reject',
  'request-withdraw',
  'request-edit',
  'request-expire',
  'request-apply',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export const AUDIT_STATUSES = ['success', 'failed', 'denied'] as const;
export type AuditStatus = (typeof AUDIT_STATUSES)[number];

export interface Actor {
  id: string;
  tag: string;
}

export const SYSTEM_ACTOR: Actor = { id: 'system', tag: 'system' };

export interface SystemConfigDoc {
  _id?: string;
  /** The slot: the key for its global value, `KEY|scope` for an override (see scopes.ts). */
  key: string;
  value: unknown;
  version: number;
  updatedBy: Actor;
  updatedAt: Date;
  /**
   * The highest version a writer announced before inserting it. Above `version`, a write may have
   * stopped between its version and this document: start-up repairs exactly those keys.
   */
  pending?: number;
  /** An override removed by `unset`: the slot holds no value and the key inherits. */
  unset?: boolean;
  /** Its version is in the change log (set by every write that moves it; absent on older data). */
  logged?: boolean;
}

export interface ConfigVersionDoc {
  _id?: string;
  /** The slot, as in SystemConfigDoc. */
  key: string;
  version: number;
  value: unknown;
  action: VersionAction;
  actor: Actor;
  reason?: string;
  /** For a rollback: the version whose value it restored. */
  restoredFrom?: number;
  /** The change request this version applied, and who approved it. */
  request?: string;
  approvers?: Actor[];
  createdAt: Date;
}

export interface ConfigAuditDoc {
  key: string;
  /** The scope of the attempt, when not global. */
  scope?: string;
  action: AuditAction;
  status: AuditStatus;
  oldValue?: unknown;
  newValue?: unknown;
  version?: number;
  actor: Actor;
  guildId?: string;
  channelId?: string;
  reason?: string;
  error?: string;
  /** When the row was written to the database (exports cover rows by this time). */
  createdAt: Date;
  /**
   * Set on rows written late: the attempt happened while the database was unreachable, at this
   * time, and its row was queued and written when the database was back (at createdAt).
   */
  attemptedAt?: Date;
  /** The row's place in the hash chain, its links and hash (see audit-chain.ts). */
  seq?: number;
  prevHash?: string;
  prevId?: string | null;
  hash?: string;
  /** Written before the chain existed and sealed into it late. */
  legacy?: boolean;
}

const actorSchema = new Schema<Actor>(
  { id: { type: String, required: true }, tag: { type: String, required: true } },
  { _id: false },
);

// Mixed values keep their JSON type (number, boolean, string, object) so stored data reads naturally.
// Buffering is off: a write to an unreachable database must fail fast, not queue silently.
const common = { versionKey: false, bufferCommands: false, strict: 'throw' } as const;

const systemConfigSchema = new Schema<SystemConfigDoc>(
  {
    // The key itself, so a lookup by key is a lookup by _id (indexed on MongoDB; filtered inside
    // SQLite rather than in Go by FerretDB).
    _id: { type: String },
    key: { type: String, required: true },
    value: { type: Schema.Types.Mixed },
    version: { type: Number, required: true },
    updatedBy: { type: actorSchema, required: true },
    updatedAt: { type: Date, required: true },
    pending: { type: Number },
    unset: { type: Boolean },
    logged: { type: Boolean },
  },
  { ...common, collection: 'system_configs', minimize: false },
);
systemConfigSchema.index({ key: 1 }, { unique: true });

const configVersionSchema = new Schema<ConfigVersionDoc>(
  {
    // `${key}@${version}` (see versionId in store.ts).
    _id: { type: String },
    key: { type: String, required: true },
    version: { type: Number, required: true },
    value: { type: Schema.Types.Mixed },
    action: { type: String, enum: VERSION_ACTIONS, required: true },
    actor: { type: actorSchema, required: true },
    reason: { type: String },
    restoredFrom: { type: Number },
    request: { type: String },
    approvers: { type: [actorSchema], default: undefined },
    createdAt: { type: Date, required: true },
  },
  { ...common, collection: 'config_versions', minimize: false },
);
// The arbiter of concurrent writers: two processes can never both write version N of a key.
configVersionSchema.index({ key: 1, version: 1 }, { unique: true });
// The value a key had at a past time (exports of past dates).
configVersionSchema.index({ key: 1, createdAt: -1 });

const auditSchema = new Schema<ConfigAuditDoc>(
  {
    key: { type: String, required: true },
    scope: { type: String },
    action: { type: String, enum: AUDIT_ACTIONS, required: true },
    status: { type: String, enum: AUDIT_STATUSES, required: true },
    oldValue: { type: Schema.Types.Mixed },
    newValue: { type: Schema.Types.Mixed },
    version: { type: Number },
    actor: { type: actorSchema, required: true },
    guildId: { type: String },
    channelId: { type: String },
    reason: { type: String },
    error: { type: String },
    createdAt: { type: Date, required: true },
    attemptedAt: { type: Date },
  },
  { ...common, collection: 'config_audit_logs', minimize: false },
);
// The audit view's filters, each in the view's order (newest first, ties by id) so a page is
// read from the index rather than sorted in memory; exports read the first by time.
auditSchema.index({ createdAt: -1, _id: -1 });
auditSchema.index({ key: 1, createdAt: -1, _id: -1 });
auditSchema.index({ 'actor.id': 1, createdAt: -1, _id: -1 });
auditSchema.index({ 'actor.tag': 1, createdAt: -1, _id: -1 });
auditSchema.index({ status: 1, createdAt: -1, _id: -1 });
auditSchema.index({ channelId: 1, createdAt: -1, _id: -1 });

/**
 * One entry of the change log: the order in which committed versions of every slot happened,
 * numbered 1, 2, 3... with no gaps (see change-log.ts). Live streams resume from a number.
 */
export interface ConfigChangeDoc {
  /** The entry's number (its position); the log's only order. */
  _id: number;
  /** The slot, as in SystemConfigDoc. */
  key: string;
  version: number;
  at: Date;
}

const configChangeSchema = new Schema<ConfigChangeDoc>(
  {
    _id: { type: Number },
    key: { type: String, required: true },
    version: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { ...common, collection: 'config_changes' },
);
// A version is logged once, whichever of its writer and a repairer gets there first.
configChangeSchema.index({ key: 1, version: 1 }, { unique: true });

export interface ConfigModels {
  SystemConfig: Model<SystemConfigDoc>;
  ConfigVersion: Model<ConfigVersionDoc>;
  ConfigAudit: Model<ConfigAuditDoc>;
  ConfigChange: Model<ConfigChangeDoc>;
}

/** Binds the models to one connection, so several services (and tests) can share a process. */
export function bindModels(conn: Connection): ConfigModels {
  return {
    SystemConfig: conn.models.SystemConfig ?? conn.model('SystemConfig', systemConfigSchema),
    ConfigVersion: conn.models.ConfigVersion ?? conn.model('ConfigVersion', configVersionSchema),
    ConfigAudit: conn.models.ConfigAudit ?? conn.model('ConfigAudit', auditSchema),
    ConfigChange: conn.models.ConfigChange ?? conn.model('ConfigChange', configChangeSchema),
  } as ConfigModels;
}

export async function ensureIndexes(models: ConfigModels): Promise<void> {
  await Promise.all(
    [models.SystemConfig, models.ConfigVersion, models.ConfigAudit, models.ConfigChange].map((m) =>
      m.createIndexes(),
    ),
  );
}
