import type { Connection } from 'mongoose';
import { isDuplicateKeyError } from '../db/connection.js';
import { DatabaseHealth } from '../db/health.js';
import { DatabaseUnavailableError, UserError } from '../errors.js';
import { errorDetail, logger } from '../logger.js';
import { AuditLog, type AuditRow } from './audit-log.js';
import type { ChangeLog } from './change-log.js';
import { DecryptError, encryptingCodec, keyId, Undecryptable, type ValueCodec } from './codec.js';
import type { ConfigListener } from './events.js';
import { LastKnownGood, type LastKnownCopy } from './last-known-good.js';
import { LiveValues } from './live-values.js';
import { inheritsFrom, parentOf, Resolution, type SlotState } from './resolution.js';
import {
  bindModels,
  ensureIndexes,
  type Actor,
  type AuditAction,
  type ConfigAuditDoc,
  type ConfigVersionDoc,
  type SystemConfigDoc,
  type VersionAction,
} from './models.js';
import type { EnvOverride } from './env-overrides.js';
import { entryOf, MASK, present, sameValue, shownVersion, snapshotOf } from './present.js';
import { checkRules, rulesFor, type CrossKeyRule } from './rules.js';
import { GLOBAL, parseScope, slotId, type Scope } from './scopes.js';
import {
  defaultOf,
  parseTyped,
  previewOf,
  requireEncryption,
  rollbackTarget,
  storedValue,
  unchangedError,
  type Checked,
} from './proposals.js';
import { rotateEncryption, type RotationResult } from './rotate.js';
import type { Category, ConfigKey, ConfigValues, ImpactLevel, RegisteredKey, Registry } from './registry.js';
import { ScheduleStore } from './schedules.js';
import { refuseTimedSensitive, TimedChanges } from './timed.js';
import { ConfigStore, type AuditFilter } from './store.js';
import type {
  ConfigEntry,
  Layer,
  Preview,
  RequestContext,
  ServiceStats,
  SnapshotEntry,
  WriteOptions,
  WriteSuccess,
} from './types.js';
import { checkReason, resolveKey } from './validate.js';
import { VersionedSlots } from './slots.js';
import { ApprovalRequired, approvalsNeeded } from './approval-gate.js';
import { formatDuration } from './kinds.js';
import { impactLines, impactOf, type ScheduleForecaster } from './impact.js';
import type { InstanceStore } from './instances.js';
import {
  ChangeRequests,
  REQUEST_KINDS,
  type ChangeRequest,
  type PlannedChange,
  type RequestKind,
} from './requests.js';
import { VersionWriter, type Proposal } from './writer.js';

// Callers import the shared types from the service, as before they had a module of their own.
export type * from './types.js';
export { MASK } from './present.js';

/**
 * Where a value is read for: a server (its guild layer first), and an environment other than
 * this process's own (a listener asking what another environment now has).
 */
/** A key resolved for an environment and server (see ConfigService.resolve). */
export interface Resolved {
  def: RegisteredKey;
  value: unknown;
  /** The value is a secret this process cannot decrypt (`value` is then undefined). */
  undecryptable?: true;
  layer: Scope | 'default' | 'process';
  version: number;
  updatedAt: Date | undefined;
  updatedBy: Actor | undefined;
  layers: Layer[];
}

export interface ReadAt {
  guildId?: string | null;
  environment?: string;
}

export interface ConfigServiceOptions {
  registry: Registry;
  conn: Connection;
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
}

const READ_UNAVAILABLE = 'Database unavailable; try again in a moment.';

/** How long a refusal's answer waits for its audit row (written, or queued, either way). */
const AUDIT_REPLY_WAIT_MS = 250;

/** Waits for `p` (which never rejects), or `ms`, whichever comes first. */
async function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Slots that are not registry keys (flags), as change requests need them (see registerSlotOwner). */
export interface SlotOwner {
  owns(slot: string): boolean;
  heldVersion(slot: string): number;
  /** The slot's value as people read it in a request. */
  shown(slot: string): string;
  apply(change: PlannedChange, request: ChangeRequest, approvers: Actor[]): Promise<{ version: number }>;
}

/**
 * The configuration core every command, job and script calls: it reads, writes and announces.
 * Reads come from memory (LiveValues). A write is checked (validate.ts, proposals.ts), appended as
 * a version by compare-and-set (VersionWriter), applied to this process's values and announced to
 * listeners; every attempt, refused ones included, gets an audit row (AuditLog). It can start
 * from a last-known-good copy while the database is unreachable and attach to it later; other
 * processes' changes arrive through refresh() and catchUp(), which ConfigSync calls.
 */
export class ConfigService {
  readonly health: DatabaseHealth;
  /** Every attempt, one row each; also how jobs and scripts record events that are not a change. */
  readonly audit: AuditLog;
  /** The connection this service's collections live in (other per-database state may share it). */
  readonly conn: Connection;
  /** Temporary values' expiries and scheduled changes (see schedules.ts, ScheduleRunner). */
  readonly schedules: ScheduleStore;
  /** Planning, applying, cancelling and listing temporary and scheduled changes. */
  readonly timed: TimedChanges;
  /** Versioned slots that are not registry keys (feature flags), with the same guarantees. */
  readonly slots: VersionedSlots;
  /** Change requests: changes of keys whose impact level needs approvals. */
  readonly requests: ChangeRequests;
  /** Approvals per impact level. */
  readonly approvals: Partial<Record<ImpactLevel, number>>;
  /** How long a change request stays open (APPROVAL_TTL). */
  readonly approvalTtlMs: number;
  private readonly slotOwners: SlotOwner[] = [];
  /** What the impact preview of change requests reads besides values: the jobs, the live processes. */
  private impactSources: { scheduler?: ScheduleForecaster; instances?: InstanceStore } = {};
  private readonly values: LiveValues;
  private readonly resolution: Resolution;
  private readonly store: ConfigStore;
  private readonly writer: VersionWriter;
  private readonly copy: LastKnownGood | undefined;
  private readonly registry: Registry;
  private readonly encryptionKeys: readonly Buffer[];
  private readonly codec: ValueCodec;
  private readonly detach: (() => void)[] = [];
  private readonly overrides: ReadonlyMap<string, EnvOverride>;
  private readonly rules: readonly CrossKeyRule[];
  readonly environments: readonly string[];
  /** The environment this process serves: get() resolves through its layer. */
  readonly environment: string;

  /** Refused attempts since start, by `action:CODE` (metrics). */
  readonly refusals = new Map<string, number>();
  private attached = false;
  private startedFrom: ServiceStats['startedFrom'] = 'database';
  private copyWrittenAt: Date | undefined;

  constructor(opts: ConfigServiceOptions) {
    this.registry = opts.registry;
    this.conn = opts.conn;
    this.overrides = new Map((opts.overrides ?? []).map((o) => [o.key, o]));
    this.rules = opts.rules ?? rulesFor(opts.registry);
    this.environments = opts.environments ?? ['production'];
    this.environment = opts.environment ?? this.environments[0] ?? 'production';

    this.health = opts.health ?? new DatabaseHealth();
    const sensitive = new Set([...opts.registry.values()].filter((d) => d.sensitive).map((d) => d.key));
    this.encryptionKeys = opts.encryptionKeys ?? [];
    this.codec = encryptingCodec(sensitive, this.encryptionKeys);
    this.store = new ConfigStore(bindModels(opts.conn), this.codec);
    this.schedules = new ScheduleStore(opts.conn);
    this.audit = new AuditLog(
      this.store,
      this.registry,
      this.health,
      opts.files ? { queueFile: opts.files.auditQueue } : {},
    );
    this.copy = opts.files
      ? new LastKnownGood(opts.files.lastKnownGood, opts.files.database, this.codec)
      : undefined;
    this.values = new LiveValues(this.registry, this.store, this.copy);
    this.resolution = new Resolution(this.values, this.registry, this.environment);
    this.writer = new VersionWriter(this.store, this.registry, { retries: opts.writeRetries ?? 8 });
    this.slots = new VersionedSlots(this.store, this.writer, this.health, () => this.attached);
    this.approvals = opts.approvals ?? {};
    this.approvalTtlMs = opts.approvalTtlMs ?? 86_400_000;
    this.requests = new ChangeRequests(opts.conn, {
      encode: (key, value) => this.codec.encode(key, value),
      decode: (key, stored) => this.codec.decode(key, stored),
      heldVersion: (key, scope) =>
        this.ownerOf(key)?.heldVersion(key) ?? this.values.peek(slotId(key, scope))?.version ?? 0,
      shown: (key, scope) => {
        const owner = this.ownerOf(key);
        if (owner) return owner.shown(key);
        const def = this.registry.get(key);
        return def ? this.shownAt(def, scope) : '(none)';
      },
      apply: (change, request, approvers) =>
        this.ownerOf(change.key)?.apply(change, request, approvers) ??
        this.applyApproved(change, request, approvers),
      audit: (row) => this.audit.record(row),
      preview: (change) => this.impactPreview(change),
    });
    this.timed = new TimedChanges({
      registry: this.registry,
      schedules: this.schedules,
      audit: this.audit,
      health: this.health,
      attached: () => this.attached,
      scopeOf: (def, typed) => this.scopeOf(def, typed),
      heldVersion: (slot) => this.values.peek(slot)?.version ?? 0,
      inherited: (key, scope) => this.resolution.at(key, parentOf(scope, this.environment)),
      storedVersion: (slot, version) => this.storedVersion(slot, version),
      write: (...args) => this.write(...args),
      approvalsNeeded: (def) => approvalsNeeded(def, this.approvals),
      requestSchedule: (...args) => this.requestSchedule(...args),
      refused: (err, action, row) => this.refused(err, action, row),
    });
    this.detach.push(this.health.onAvailable(() => this.recover()));
    this.detach.push(this.health.follow(this.conn, () => this.attached));
  }

  /** The scheduler and instance list of this process, for the impact preview kept with change requests. */
  useImpactSources(sources: { scheduler?: ScheduleForecaster; instances?: InstanceStore }): void {
    this.impactSources = sources;
  }

  /**
   * Lets the owner of slots that are not registry keys (flags) take part in change requests: it
   * says which slots are its, their versions, how they read, and applies an approved change.
   */
  registerSlotOwner(owner: SlotOwner): void {
    this.slotOwners.push(owner);
  }

  private ownerOf(slot: string): SlotOwner | undefined {
    return this.slotOwners.find((o) => o.owns(slot));
  }

  /** Changes of this process's values, as they arrive (see subscribe). */
  get events(): LiveValues['events'] {
    return this.values.events;
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Starts with the database: creates indexes, completes interrupted writes, seeds and loads. */
  async init(): Promise<void> {
    await this.audit.loadQueue();
    await this.attach();
    // Started without the key a stored secret needs: a misconfiguration to fix before serving.
    // (A secret this process cannot open that arrives later is served masked instead.)
    const [locked] = this.values.undecryptable();
    if (locked) throw new DecryptError(locked.reason);
    const held = this.heldCounts();
    // Feature flags are counted by their store ("Feature flags loaded: N"), not as keys.
    logger.info(
      `Configuration loaded: ${held.keys} keys, ${held.overrides} override${held.overrides === 1 ? '' : 's'}`,
    );
  }

  /** Keys holding a value and overrides held, counted apart (slots that are not keys, flags, excluded). */
  heldCounts(): { keys: number; overrides: number } {
    const keys = this.keys();
    return {
      keys: keys.filter((k) => this.values.held(k)).length,
      overrides: keys.reduce((n, k) => n + this.values.overridesOf(k).length, 0),
    };
  }

  /** The last-known-good copy on disk, if this service keeps one and it exists. */
  async lastKnownCopy(): Promise<LastKnownCopy | undefined> {
    return this.copy?.read();
  }

  /**
   * Starts without the database, from a last-known-good copy: reads are served from it, writes
   * are refused as "database unavailable" until attach() succeeds.
   */
  async startFromCopy(copy: LastKnownCopy, reason: string): Promise<void> {
    await this.audit.loadQueue();
    this.values.loadCopy(copy);
    this.startedFrom = 'last-known-good copy';
    this.copyWrittenAt = copy.writtenAt;
    this.health.startOutage('start', reason);
    logger.warn(
      `Started from the last-known-good copy written ${copy.writtenAt.toISOString()} (${copy.entries.size} keys); writes are refused until the database answers`,
    );
  }

  /**
   * Connects the service to the database (at start, or when it answers after a start from the
   * copy): indexes, repair, seeding, then every value; keys that moved since the copy are caught
   * up version by version, so listeners see each change. Writes queued audit rows.
   */
  async attach(): Promise<void> {
    await ensureIndexes(bindModels(this.conn));
    await this.schedules.ensureIndexes();
    await this.requests.ensureIndexes();
    await this.values.load(await this.writer.prepare(), { overrule: true });
    this.attached = true;
    this.health.noteAvailable();
    this.values.saveCopy();
    void this.audit.flush();
  }

  /** Stops listeners and finishes writing local files. The connection belongs to the caller. */
  async close(): Promise<void> {
    for (const off of this.detach.splice(0)) off();
    await this.values.close();
    await this.audit.settle();
  }

  // ---- reads -------------------------------------------------------------------------------

  /**
   * The value in force, from memory: this process's environment override, else the one of its
   * environment (APP_ENVIRONMENT, or `at.environment`), of the server when `at.guildId` is given
   * first, else the global value, else the default. Never throws for a registered key, even with
   * the database down.
   */
  get<K extends ConfigKey>(key: K, at?: ReadAt): ConfigValues[K];
  get(key: string, at?: ReadAt): unknown;
  get(key: string, at?: ReadAt): unknown {
    const value = this.raw(key, at);
    // A secret this process cannot decrypt reads as unset here (it is served masked elsewhere).
    return value instanceof Undecryptable ? undefined : value;
  }

  /** get() before undecryptable values are hidden. */
  private raw(key: string, at?: ReadAt): unknown {
    this.health.warnServingFromMemory();
    if (this.overrides.size) {
      const forced = this.overrides.get(key);
      if (forced) return forced.value;
    }
    // Overrides exist only for keys that allow them (parseScope refuses the rest).
    const layers = this.values.layersOf(key);
    if (layers) {
      const environment = at?.environment ?? this.environment;
      if (layers.merge) return this.values.merged(key, layers, environment, at?.guildId);
      if (at?.guildId && layers.guild.size) {
        const g = layers.guild.get(at.guildId);
        if (g) return g.value;
      }
      const e = layers.env.get(environment);
      if (e) return e.value;
    }
    const entry = this.values.read(key);
    if (entry !== undefined) return entry.value;
    const def = this.registry.get(key);
    if (!def) throw new UserError('UNKNOWN_KEY', `Unknown setting ${key}.`, { key });
    return def.default;
  }

  /**
   * What a key resolves to for an environment and a server, and where that comes from: the
   * supplying layer (`process` for this process's CONFIG_OVERRIDE_<KEY>) with its version, and
   * every layer. Memory only; the value is not masked (callers mask sensitive keys).
   */
  resolve(input: string, at: ReadAt = {}): Resolved {
    const def = resolveKey(this.registry, input);
    const environment = at.environment ?? this.environment;
    const from: Scope =
      at.guildId && def.scopes.includes('guild') ? `guild:${at.guildId}` : `env:${environment}`;
    const layers = this.resolution.layers(def, from, environment);
    const supplier = layers.find((l) => l.supplies)?.scope ?? 'default';
    const held = supplier === 'default' ? undefined : this.values.peek(slotId(def.key, supplier));
    const forced = this.overrides.get(def.key);
    const value = this.raw(def.key, at);
    const locked = value instanceof Undecryptable;
    return {
      def,
      value: locked ? undefined : value,
      ...(locked ? { undecryptable: true as const } : {}),
      layer: forced ? 'process' : supplier,
      version: held?.version ?? 0,
      updatedAt: held?.updatedAt,
      updatedBy: held?.updatedBy,
      layers,
    };
  }

  /** The log of committed versions across keys, in order (live streams read it). */
  get changes(): ChangeLog {
    return this.store.changes;
  }

  /** Whether `key` is registered here (a process of another release may log keys this one lacks). */
  isRegistered(key: string): boolean {
    return this.registry.has(key);
  }

  /** Every registered key, in registry order. */
  keys(): string[] {
    return [...this.registry.keys()];
  }

  getAll(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of this.registry.keys())
      out[key] = this.overrides.has(key) ? this.overrides.get(key)?.value : this.values.value(key);
    return out;
  }

  /** The registered definition of a key; `input` is what a user typed (case-insensitive). */
  definition(input: string): RegisteredKey {
    return resolveKey(this.registry, input);
  }

  /**
   * One key with its metadata; `input` is what a user typed (case-insensitive). Without a scope:
   * the value in force for this process's environment and the server `guildId`, with every layer
   * explained; with one: what that layer holds.
   */
  describe(input: string, at: { scope?: string | null; guildId?: string | null } = {}): ConfigEntry {
    const def = resolveKey(this.registry, input);
    if (at.scope) return this.entry(def, this.scopeOf(def, at.scope));
    return this.entry(def, GLOBAL, at.guildId ?? undefined);
  }

  list(category?: Category): ConfigEntry[] {
    return [...this.registry.values()]
      .filter((d) => !category || d.category === category)
      .map((d) => this.entry(d))
      .sort((a, b) => a.category.localeCompare(b.category) || a.key.localeCompare(b.key));
  }

  /** Keys matching a search text (name or description), for autocomplete. */
  search(text: string, limit = 25): RegisteredKey[] {
    const q = text.trim().toUpperCase();
    const all = [...this.registry.values()];
    const byName = all.filter((d) => d.key.includes(q.replace(/\s+/g, '_')));
    const byDescription = all.filter((d) => !byName.includes(d) && d.description.toUpperCase().includes(q));
    return [...byName, ...byDescription].slice(0, limit);
  }

  /** Versions of a key, newest first: the newest page, or the page below `before` or above `after`. */
  async history(
    input: string,
    opts: {
      limit?: number;
      before?: number;
      after?: number;
      scope?: string | null;
      /** Values as stored (decrypted, or Undecryptable), for a caller that masks them itself (the API). */
      unmasked?: boolean;
    } = {},
  ): Promise<ConfigVersionDoc[]> {
    const def = resolveKey(this.registry, input);
    const slot = slotId(def.key, this.scopeOf(def, opts.scope));
    const limit = Math.min(Math.max(opts.limit ?? 10, 1), 100);
    const rows = await this.health.guard(
      'read',
      () => this.store.history(slot, limit, opts),
      READ_UNAVAILABLE,
    );
    return opts.unmasked ? rows : rows.map((r) => shownVersion(def, r));
  }

  /** Audit rows matching a filter, newest first, sensitive values masked. */
  async auditLog(filter: AuditFilter = {}): Promise<ConfigAuditDoc[]> {
    return this.audit.view(filter);
  }

  /**
   * Every key's value as it was at `at` (from the versions; from memory for keys unchanged since),
   * sensitive ones masked: the snapshot of an export of a past date. A key with no version by then
   * did not exist yet: it has its default and version 0.
   */
  async valuesAt(at: Date): Promise<SnapshotEntry[]> {
    return this.health.guard(
      'read',
      async () => {
        const out: SnapshotEntry[] = [];
        for (const def of this.registry.values()) {
          const held = this.values.peek(def.key);
          if (held && held.updatedAt <= at) {
            out.push(snapshotOf(def, held));
            continue;
          }
          const v = await this.store.versionAt(def.key, at);
          out.push(
            snapshotOf(def, {
              value: v ? v.value : def.default,
              version: v?.version ?? 0,
              updatedAt: v?.createdAt,
              updatedBy: v?.actor,
            }),
          );
        }
        return out;
      },
      READ_UNAVAILABLE,
    );
  }

  /** The version this process holds for a key at a scope (0 when none). */
  cachedVersion(key: string, scope: Scope = GLOBAL): number {
    return this.values.peek(slotId(key, scope))?.version ?? 0;
  }

  /** What this process holds for a slot (version 0: nothing yet); values as held, undecryptable ones included. */
  heldState(slot: string): SlotState {
    const e = this.values.peek(slot);
    return e
      ? { version: e.version, value: e.value, ...(e.unset ? { unset: true } : {}) }
      : { version: 0, value: undefined };
  }

  /** This process's CONFIG_OVERRIDE_<KEY> of a key, if it has one (it wins over every layer). */
  processOverride(key: string): { value: unknown } | undefined {
    const forced = this.overrides.get(key);
    return forced && { value: forced.value };
  }

  /**
   * Every slot's current document, read from the database (not memory), values in clear: what a
   * named snapshot records. Pair with sealValue/openValue to keep sensitive values encrypted at rest.
   */
  async currentDocuments(): Promise<SystemConfigDoc[]> {
    return this.health.guard('read', () => this.store.allCurrent(), READ_UNAVAILABLE);
  }

  /** A slot's value as the store keeps it: encrypted with the current key when the key is sensitive. */
  sealValue(slot: string, value: unknown): unknown {
    return this.codec.encode(slot, value);
  }

  /** The value of a form made by sealValue; throws DecryptError when no configured key opens it. */
  openValue(slot: string, stored: unknown): unknown {
    return this.codec.decode(slot, stored);
  }

  /** The override scopes of a key that hold a value, most specific kind first (autocomplete, list). */
  overrideScopes(key: string): Scope[] {
    return this.values
      .overridesOf(key)
      .map((o) => o.scope)
      .sort((a, b) => b.localeCompare(a));
  }

  /** Keys marked requiresRestart that changed since this process started. */
  pendingRestart(): string[] {
    return this.values.pendingRestart();
  }

  stats(): ServiceStats {
    return {
      cache: this.values.stats(),
      database: this.health.available ? 'connected' : 'unavailable',
      outageSince: this.health.outageSince,
      startedFrom: this.startedFrom,
      copyWrittenAt: this.copyWrittenAt,
      auditQueued: this.audit.queued,
      envOverrides: [...this.overrides.values()].map(({ key, variable }) => ({ key, variable })),
      undecryptable: this.values.undecryptable(),
    };
  }

  // ---- writes ------------------------------------------------------------------------------

  /**
   * Sets a key from what a user typed, at `opts.scope`. With `opts.forMs` the value is temporary:
   * the value it replaced comes back then (an override that did not exist is removed), unless
   * someone changed the key at that scope in between. Throws UserError (audited) when refused.
   */
  async set(
    input: string,
    value: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: WriteOptions = {},
  ): Promise<WriteSuccess> {
    const result = await this.write('set', input, actor, reason, ctx, opts, (def, scope) => {
      const parsed = parseTyped(def, scope, value);
      requireEncryption(def, parsed.value, this.encrypts);
      if (opts.forMs !== undefined) refuseTimedSensitive(def);
      return () => ({ value: parsed.value, warnings: parsed.warnings });
    });
    if (opts.forMs === undefined) return result;
    return this.timed.expireLater(result, opts.forMs, actor, reason);
  }

  /**
   * Writes a typed value (from a snapshot or an export file) at `opts.scope`, as a version with
   * `action`, through the same checks as set: today's rules for the key, cross-key rules,
   * encryption of sensitive values, `expectedVersion`. Throws UserError (audited) when refused,
   * UNCHANGED when the key already holds it.
   */
  put(
    action: 'restore' | 'import',
    input: string,
    value: unknown,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: Omit<WriteOptions, 'forMs'> = {},
  ): Promise<WriteSuccess> {
    return this.write(action, input, actor, reason, ctx, opts, (def, scope) => {
      const checked = storedValue(def, scope, value);
      requireEncryption(def, checked.value, this.encrypts);
      return () => checked;
    });
  }

  /** Stored versions of slots, by `SLOT@version`, in one read (missing ones are absent). */
  async storedVersions(
    wanted: readonly { slot: string; version: number }[],
  ): Promise<Map<string, ConfigVersionDoc>> {
    if (!wanted.length) return new Map();
    const docs = await this.health.guard('read', () => this.store.versionsOf(wanted), READ_UNAVAILABLE);
    return new Map(docs.map((d) => [`${d.key}@${d.version}`, d]));
  }

  /** A stored version of a slot, read without checking the key or scope against today's registry. */
  async storedVersion(slot: string, version: number): Promise<ConfigVersionDoc | undefined> {
    return (
      (await this.health.guard('read', () => this.store.version(slot, version), READ_UNAVAILABLE)) ??
      undefined
    );
  }

  /** Restores the value of an earlier version, as a new version. Throws UserError (audited) when refused. */
  rollback(
    input: string,
    toVersion: number,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: WriteOptions = {},
  ): Promise<WriteSuccess> {
    return this.write('rollback', input, actor, reason, ctx, opts, async (def, scope) => {
      const checked = await this.rollbackTarget(def, scope, toVersion);
      return () => ({ ...checked, restoredFrom: toVersion });
    });
  }

  /** Sets a key back to its default, as a new version. Throws UserError (audited) when refused. */
  reset(
    input: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: WriteOptions = {},
  ): Promise<WriteSuccess> {
    // At an override scope a reset removes the override (action unset): the key inherits again.
    return this.write('reset', input, actor, reason, ctx, opts, (def) => () => defaultOf(def));
  }

  /**
   * What a rollback would change, without writing (the confirmation step shows it). A refusal
   * (no such version, already that value, not allowed any more) is an attempt too: it is audited.
   */
  async previewRollback(
    input: string,
    toVersion: number,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: Pick<WriteOptions, 'scope'> = {},
  ): Promise<Preview> {
    return this.audited('rollback', input, actor, reason, ctx, opts, async (def, scope) => {
      const target = await this.health.guard(
        'read',
        () => this.rollbackTarget(def, scope, toVersion),
        READ_UNAVAILABLE,
      );
      const preview = previewOf(def, 'rollback', this.current(def, scope), target, toVersion, scope);
      this.checkRules(def, scope, target.value);
      return preview;
    });
  }

  /** What a reset would change, without writing; a refusal (already the default) is audited. */
  /**
   * What a set would change, without writing (dry runs and the impact preview): the value parsed
   * and checked by the same rules, refusals audited like the set itself.
   */
  async previewSet(
    input: string,
    value: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: Pick<WriteOptions, 'scope'> = {},
  ): Promise<Preview> {
    return this.audited('set', input, actor, reason, ctx, opts, (def, scope) => {
      const parsed = parseTyped(def, scope, value);
      const preview = previewOf(def, 'set', this.current(def, scope), parsed, undefined, scope);
      this.resolution.checkMerged(def, scope, parsed.value);
      this.checkRules(def, scope, this.resolution.merged(def, scope, parsed.value));
      return preview;
    });
  }

  async previewReset(
    input: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: Pick<WriteOptions, 'scope'> = {},
  ): Promise<Preview> {
    return this.audited('reset', input, actor, reason, ctx, opts, (def, scope) => {
      if (scope === GLOBAL) {
        const preview = previewOf(def, 'reset', this.current(def, scope), defaultOf(def));
        this.checkRules(def, scope, def.default);
        return preview;
      }
      // Removing an override: what the key would inherit from the layer below.
      const inherited = this.resolution.at(def.key, parentOf(scope, this.environment));
      const preview = previewOf(
        def,
        'unset',
        this.current(def, scope),
        { value: inherited, warnings: [] },
        undefined,
        scope,
      );
      this.checkRules(def, scope, inherited);
      return preview;
    });
  }

  /**
   * Re-encrypts every stored sensitive value with the first encryption key (see rotate.ts).
   * Needs the database; throws ENCRYPTION_REQUIRED when no key is configured.
   */
  async rotateEncryption(actor: Actor): Promise<RotationResult & { keyId: string }> {
    const [current] = this.encryptionKeys;
    if (!current)
      throw new UserError(
        'ENCRYPTION_REQUIRED',
        'CONFIG_ENCRYPTION_KEYS is not set: there is no key to re-encrypt with.',
      );
    if (!this.attached)
      throw new DatabaseUnavailableError(
        'not connected',
        'The database cannot be reached; nothing was re-encrypted.',
      );
    const id = keyId(current);
    const result = await rotateEncryption(this.store, this.codec, this.registry, id, actor);
    // Change requests keep proposed sensitive values sealed too.
    const requests = await this.requests.reseal((key, stored) => this.codec.reseal(key, stored));
    return { ...result, resealed: result.resealed + requests, keyId: id };
  }

  /** A stored form re-encrypted with the current key, or undefined when it already is (or is not sealed). */
  resealValue(slot: string, stored: unknown): unknown {
    return this.codec.reseal(slot, stored);
  }

  /** Plans the expiry of a value just committed; says so in the result (or why not). */
  // ---- announcements -----------------------------------------------------------------------

  /** Calls `listener` on every change of `keys` (every key when undefined); returns the unsubscribe. */
  subscribe(keys: readonly string[] | undefined, listener: ConfigListener): () => void {
    return this.values.events.subscribe(keys, listener);
  }

  /**
   * Reloads every current value from the database, completing lagging keys first. A key that
   * moved on elsewhere is caught up version by version, so listeners see every change in order.
   */
  async refresh({ repair = true } = {}): Promise<void> {
    if (!this.attached) return;
    // One read serves both: a key repaired here is applied ahead of its stale document, which
    // load() then skips.
    const docs = await this.store.allCurrent();
    if (repair) this.applyRepaired(await this.writer.repairAll(docs));
    await this.values.load(docs);
  }

  /** Applies, oldest first, every version of `key` newer than this process has seen. */
  catchUp(key: string): Promise<number> {
    return this.values.catchUp(key);
  }

  /** The marker that moves on every committed write (see ConfigStore.changeMarker). */
  changeMarker(): Promise<string | undefined> {
    return this.store.changeMarker();
  }

  // ---- internals ---------------------------------------------------------------------------

  private get encrypts(): boolean {
    return this.encryptionKeys.length > 0;
  }

  /**
   * The one write path. `prepare` validates what can be checked once (input, target version)
   * and returns a function computing the new value from fresh state on each attempt. The scope
   * is read from `opts.scope`; a reset at an override scope removes the override (`unset`).
   */
  private async write(
    requested: VersionAction,
    input: string,
    actor: Actor,
    rawReason: string | undefined,
    ctx: RequestContext,
    opts: WriteOptions,
    prepare: (def: RegisteredKey, scope: Scope) => (() => Proposal) | Promise<() => Proposal>,
  ): Promise<WriteSuccess> {
    let key = input.slice(0, 64);
    let scope: Scope = GLOBAL;
    let action = requested;
    let reason: string | undefined;
    let oldValue: unknown;
    let proposed: unknown;
    try {
      reason = checkReason(rawReason);
      const def = resolveKey(this.registry, input);
      key = def.key;
      scope = this.scopeOf(def, opts.scope);
      if (requested === 'reset' && scope !== GLOBAL) action = 'unset';
      if (!this.attached)
        throw new DatabaseUnavailableError('not connected yet (started from the last-known-good copy)');
      const propose = await prepare(def, scope);
      // Expiries and scheduled values carried out later went through approvals when planned.
      const needed = opts.approval || opts.timed ? 0 : approvalsNeeded(def, this.approvals);
      if (needed > 0) {
        const request = await this.requestFor(
          def,
          scope,
          requested,
          action,
          propose,
          needed,
          actor,
          reason,
          ctx,
          opts,
        );
        throw new ApprovalRequired(request);
      }
      const where = scope === GLOBAL ? '' : ` at ${scope}`;
      // An approved request's versions say which request and who approved it.
      const outcome = await this.writer.commit(
        def,
        scope,
        action,
        actor,
        reason,
        ctx,
        (cur) => {
          if (opts.expectedVersion !== undefined && cur.version !== opts.expectedVersion) {
            throw new UserError(
              'CONFLICT',
              `${def.key}${where} changed since this preview (v${opts.expectedVersion} → v${cur.version}); nothing was changed. Run the command again to see what it would do now.`,
              { key: def.key },
            );
          }
          oldValue = cur.unset ? undefined : cur.value;
          const p = propose();
          proposed = action === 'unset' ? undefined : p.value;
          // What the key will resolve to at this scope; unchanged is not a violation, whatever the
          // other keys hold: the writer says so instead.
          if (action === 'unset') {
            if (!cur.unset)
              this.checkRules(def, scope, this.resolution.at(def.key, parentOf(scope, this.environment)));
          } else if (cur.unset || !sameValue(def, p.value, cur.value)) {
            this.resolution.checkMerged(def, scope, p.value);
            this.checkRules(def, scope, this.resolution.merged(def, scope, p.value));
          }
          return p;
        },
        opts.approval ?? {},
      );
      this.applyRepaired(outcome.repaired);
      if (outcome.status === 'unchanged')
        throw unchangedError(def, action, outcome.current.value, outcome.restoredFrom, scope);
      this.values.apply(def, outcome.version, outcome.previous.unset ? undefined : outcome.previous.value);
      const forced = this.overrides.get(def.key);
      return {
        key,
        scope,
        action,
        version: outcome.version.version,
        value:
          action === 'unset'
            ? this.resolution.at(def.key, parentOf(scope, this.environment))
            : outcome.version.value,
        oldValue: outcome.previous.unset ? undefined : outcome.previous.value,
        oldVersion: outcome.previous.version,
        warnings: forced
          ? [
              ...outcome.warnings,
              `This process uses ${forced.variable} from its environment: the stored value has no effect here until that variable is removed.`,
            ]
          : outcome.warnings,
        ...(outcome.version.restoredFrom !== undefined ? { restoredFrom: outcome.version.restoredFrom } : {}),
        ...(outcome.seq !== undefined ? { seq: outcome.seq } : {}),
        at: outcome.version.createdAt,
      };
    } catch (err) {
      // Not a refusal: the change became a request (its creation is audited by the requests).
      if (err instanceof ApprovalRequired) throw err;
      const known = this.registry.has(key);
      return this.refused(err, action, {
        key,
        ...(scope !== GLOBAL ? { scope } : {}),
        actor,
        reason,
        oldValue: known ? (oldValue ?? this.values.held(slotId(key, scope))?.value) : undefined,
        newValue: known ? proposed : undefined,
        ...ctx,
      });
    }
  }

  /**
   * Applies one approved change: a value now (temporary ones then expire as planned), or, for a
   * scheduled change, the schedule itself (the value applies at its time).
   */
  private async applyApproved(
    change: PlannedChange,
    request: ChangeRequest,
    approvers: Actor[],
  ): Promise<{ version: number; outcome?: string }> {
    const approval = { request: request.id, approvers };
    if (change.runAt) {
      const def = this.definition(change.key);
      const planned = await this.timed.schedule(
        change.key,
        def.format(change.value as never),
        change.runAt,
        request.requester,
        request.reason,
        request.ctx ?? {},
        { scope: change.scope, ...(change.forMs !== undefined ? { forMs: change.forMs } : {}), approval },
      );
      return {
        version: change.baseVersion,
        outcome: `scheduled for ${planned.runAt.toISOString()} (id ${planned.id})`,
      };
    }
    const result = await this.write(
      change.action === 'unset' ? 'reset' : change.action,
      change.key,
      request.requester,
      request.reason,
      request.ctx ?? {},
      { scope: change.scope, expectedVersion: change.baseVersion, approval },
      () => () => ({
        value: change.value,
        warnings: [],
        ...(change.restoredFrom !== undefined ? { restoredFrom: change.restoredFrom } : {}),
      }),
    );
    if (change.forMs === undefined) return result;
    const timed = await this.timed.expireLater(result, change.forMs, request.requester, request.reason);
    return {
      version: result.version,
      outcome: `applied as v${result.version}${timed.until ? `, until ${timed.until.at.toISOString()}` : ''}`,
    };
  }

  /**
   * The impact preview of one planned change of a registry key, as lines (change requests keep
   * it; a rebase computes it again). Undefined for other slots (flags).
   */
  async impactPreview(change: PlannedChange, warnings: string[] = []): Promise<string[] | undefined> {
    const def = this.registry.get(change.key);
    if (!def) return undefined;
    const held = this.values.peek(slotId(def.key, change.scope));
    const unset = !held || Boolean(held.unset);
    const show = (v: unknown) => (def.sensitive ? MASK : present(def, v));
    const impact = await impactOf(
      { config: this, scheduler: this.impactSources.scheduler, instances: this.impactSources.instances },
      {
        key: def.key,
        scope: change.scope,
        action: change.action,
        currentVersion: held?.version ?? 0,
        current: unset ? '(no override)' : show(held?.value),
        next:
          change.action === 'unset'
            ? show(this.resolution.at(def.key, parentOf(change.scope, this.environment)))
            : show(change.value),
        warnings,
        ...(change.action === 'unset' ? {} : { value: change.value }),
      },
    );
    return impactLines(impact);
  }

  /** The value a slot holds as people see it in a change request (masked when sensitive). */
  private shownAt(def: RegisteredKey, scope: Scope): string {
    const held = this.values.peek(slotId(def.key, scope));
    if (!held || held.unset) return '(none)';
    return def.sensitive ? MASK : present(def, held.value);
  }

  /** The approvals a set of keys needs together: the most any of them needs, and its level. */
  approvalsFor(keys: readonly string[]): { needed: number; level: ImpactLevel } {
    let best: { needed: number; level: ImpactLevel } = { needed: 0, level: 'none' };
    for (const key of keys) {
      const def = this.registry.get(key);
      if (!def) continue;
      const needed = approvalsNeeded(def, this.approvals);
      if (needed > best.needed) best = { needed, level: def.impact };
    }
    return best;
  }

  /**
   * A snapshot restore or an import that touches a key needing approvals: the whole operation
   * becomes one change request (every change, checked as `put` would check it, against the
   * versions of its preview), applied as versions with `action` once approved.
   */
  async requestBatch(
    action: 'restore' | 'import',
    changes: readonly { key: string; scope: Scope; value: unknown; expectedVersion: number }[],
    actor: Actor,
    reason: string | undefined,
    ctx: RequestContext = {},
  ): Promise<ChangeRequest> {
    const { needed, level } = this.approvalsFor(changes.map((c) => c.key));
    const planned = changes.map((c) => {
      const def = this.definition(c.key);
      const checked = storedValue(def, c.scope, c.value);
      requireEncryption(def, checked.value, this.encrypts);
      const show = (v: unknown) => (def.sensitive ? MASK : present(def, v));
      return {
        key: def.key,
        scope: c.scope,
        action,
        value: checked.value,
        baseVersion: c.expectedVersion,
        before: this.shownAt(def, c.scope),
        after: show(checked.value),
        ...(checked.warnings.length ? { warnings: checked.warnings } : {}),
      };
    });
    return this.requests.create({
      kind: action,
      requester: actor,
      ...(reason ? { reason: checkReason(reason) ?? reason } : {}),
      level,
      required: needed,
      changes: planned,
      preview: [
        `${planned.length} change${planned.length === 1 ? '' : 's'}, applied key by key once approved; a key that moves meanwhile clears the approvals.`,
      ],
      ttlMs: this.approvalTtlMs,
      ctx,
    });
  }

  /** A scheduled change of a key that needs approvals, stored as a change request (see TimedChanges.schedule). */
  private async requestSchedule(
    def: RegisteredKey,
    scope: Scope,
    value: unknown,
    display: string,
    runAt: Date,
    forMs: number | undefined,
    needed: number,
    actor: Actor,
    reason: string | undefined,
    ctx: RequestContext,
    warnings: readonly string[] = [],
  ): Promise<never> {
    const held = this.values.peek(slotId(def.key, scope));
    const request = await this.requests.create({
      kind: 'set',
      requester: actor,
      ...(reason ? { reason } : {}),
      level: def.impact,
      required: needed,
      changes: [
        {
          key: def.key,
          scope,
          action: 'scheduled',
          value,
          baseVersion: held?.version ?? 0,
          runAt,
          ...(forMs !== undefined ? { forMs } : {}),
          before: this.shownAt(def, scope),
          after: `${display} at ${runAt.toISOString()}${forMs !== undefined ? ` for ${formatDuration(forMs)}` : ''}`,
          ...(warnings.length ? { warnings: [...warnings] } : {}),
        },
      ],
      preview: [
        'Approving schedules it: the value applies at its time, checked against the rules of that moment.',
      ],
      ttlMs: this.approvalTtlMs,
      ctx,
    });
    throw new ApprovalRequired(request);
  }

  /**
   * A write that needs approvals, checked as the write itself would be (expected version, already
   * that value, cross-key rules), stored as a change request against the version held now.
   */
  private async requestFor(
    def: RegisteredKey,
    scope: Scope,
    requested: VersionAction,
    action: VersionAction,
    propose: () => Proposal,
    needed: number,
    actor: Actor,
    reason: string | undefined,
    ctx: RequestContext,
    opts: WriteOptions,
  ): Promise<ChangeRequest> {
    const held = this.values.peek(slotId(def.key, scope));
    const baseVersion = held?.version ?? 0;
    const unset = !held || Boolean(held.unset);
    const where = scope === GLOBAL ? '' : ` at ${scope}`;
    if (opts.expectedVersion !== undefined && baseVersion !== opts.expectedVersion)
      throw new UserError(
        'CONFLICT',
        `${def.key}${where} changed since this preview (v${opts.expectedVersion} → v${baseVersion}); nothing was changed. Run the command again to see what it would do now.`,
        { key: def.key },
      );
    const p = propose();
    const unchanged = action === 'unset' ? unset : !unset && sameValue(def, p.value, held?.value);
    if (unchanged) throw unchangedError(def, action, held?.value, p.restoredFrom, scope);
    if (action === 'unset') {
      this.checkRules(def, scope, this.resolution.at(def.key, parentOf(scope, this.environment)));
    } else {
      this.resolution.checkMerged(def, scope, p.value);
      this.checkRules(def, scope, this.resolution.merged(def, scope, p.value));
    }
    const show = (v: unknown) => (def.sensitive ? MASK : present(def, v));
    // The impact preview as it stands when the request is made (per environment, jobs' next
    // runs, restart, processes, the way back), kept with the request for its reviewers. The
    // value's warnings are kept on its change instead, so they outlive a preview computed again.
    const preview =
      (await this.impactPreview({
        key: def.key,
        scope,
        action,
        baseVersion,
        ...(action === 'unset' ? {} : { value: p.value }),
      })) ?? [];
    return this.requests.create({
      kind: (REQUEST_KINDS as readonly string[]).includes(requested) ? (requested as RequestKind) : 'set',
      requester: actor,
      ...(reason ? { reason } : {}),
      level: def.impact,
      required: needed,
      changes: [
        {
          key: def.key,
          scope,
          action,
          ...(action === 'unset' ? {} : { value: p.value }),
          ...(p.restoredFrom !== undefined ? { restoredFrom: p.restoredFrom } : {}),
          baseVersion,
          ...(opts.forMs !== undefined ? { forMs: opts.forMs } : {}),
          before: this.shownAt(def, scope),
          after: `${action === 'unset' ? '(inherits again)' : show(p.value)}${opts.forMs !== undefined ? ` for ${formatDuration(opts.forMs)}` : ''}`,
          ...(action !== 'unset' && p.warnings.length ? { warnings: p.warnings } : {}),
        },
      ],
      preview,
      ttlMs: this.approvalTtlMs,
      ctx,
    });
  }

  /** Runs a preview; a refusal is recorded as a failed attempt of `action`, then thrown. */
  private async audited(
    action: VersionAction,
    input: string,
    actor: Actor,
    rawReason: string | undefined,
    ctx: RequestContext,
    opts: Pick<WriteOptions, 'scope'>,
    run: (def: RegisteredKey, scope: Scope) => Preview | Promise<Preview>,
  ): Promise<Preview> {
    let key = input.slice(0, 64);
    let scope: Scope = GLOBAL;
    try {
      const def = resolveKey(this.registry, input);
      key = def.key;
      scope = this.scopeOf(def, opts.scope);
      return await run(def, scope);
    } catch (err) {
      let reason: string | undefined;
      try {
        reason = checkReason(rawReason);
      } catch {
        // A reason too long to keep is itself what was refused; the row records the attempt without it.
        reason = undefined;
      }
      const recorded = action === 'reset' && scope !== GLOBAL ? 'unset' : action;
      return this.refused(err, recorded, {
        key,
        ...(scope !== GLOBAL ? { scope } : {}),
        actor,
        reason,
        ...ctx,
      });
    }
  }

  /**
   * Records a refused attempt (audited as failed) and throws what the user should see: the
   * UserError, the unreachable database, a lost race; anything else is a bug, rethrown as is.
   */
  private async refused(
    err: unknown,
    action: AuditAction,
    row: Omit<AuditRow, 'action' | 'status' | 'error'>,
  ): Promise<never> {
    const error = this.userErrorOf(err, row.key, action);
    const reason = `${action}:${error?.code ?? 'INTERNAL'}`;
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
    // A commit may have completed others' interrupted writes before it gave up: bring them in.
    if (!error || error.code === 'CONFLICT')
      void this.catchUp(slotId(row.key, (row.scope ?? GLOBAL) as Scope)).catch((e: unknown) =>
        this.health.noteFailure('catch-up', e),
      );
    const audit: AuditRow = {
      ...row,
      action,
      status: 'failed',
      error: error ? error.message : `internal error: ${errorDetail(err).error as string}`,
    };
    // The row is written (or queued, if the database cannot take it) whatever happens; the answer
    // waits for it only a moment: a refusal needs no database, and a paused one must not delay it.
    const recording = this.audit.record(audit);
    if (error?.code !== 'UNAVAILABLE') await settledWithin(recording, AUDIT_REPLY_WAIT_MS);
    throw error ?? err;
  }

  /** The user-facing form of a failure, or undefined for a bug. */
  private userErrorOf(err: unknown, key: string, action: string): UserError | undefined {
    if (err instanceof UserError) return err;
    const unavailable = this.health.asUnavailable(action, err);
    if (unavailable) return unavailable;
    if (isDuplicateKeyError(err))
      return new UserError('CONFLICT', `${key} was changed concurrently by someone else; try again.`, {
        key,
      });
    return undefined;
  }

  /**
   * Refuses a value of `def` at `scope` that would break a rule, in that scope and in every more
   * specific one that inherits it and holds an override of another key of the rule.
   */
  private checkRules(def: RegisteredKey, scope: Scope, next: unknown): void {
    const affected = new Set<Scope>([scope]);
    for (const rule of this.rules) {
      if (!rule.keys.includes(def.key)) continue;
      for (const other of rule.keys)
        for (const o of this.values.overridesOf(other))
          if (inheritsFrom(o.scope, scope, this.environment) && !this.values.held(slotId(def.key, o.scope)))
            affected.add(o.scope);
    }
    for (const at of affected)
      checkRules(this.registry, this.rules, def.key, next, (k) => this.resolution.at(k, at), at);
  }

  /** The scope a user typed, checked against the key's allowed scopes and ENVIRONMENTS. */
  /** The scope as typed (`global`, `env:staging`, `guild:<id>`), checked against what `def` allows. */
  scopeOf(def: RegisteredKey, typed: string | null | undefined): Scope {
    return parseScope(typed, { key: def.key, allowed: def.scopes, environments: this.environments });
  }

  private rollbackTarget(def: RegisteredKey, scope: Scope, toVersion: number): Promise<Checked> {
    const slot = slotId(def.key, scope);
    return rollbackTarget(this.store, def, slot, toVersion, this.values.peek(slot)?.version, this.encrypts);
  }

  /** Applies interrupted writes a commit or refresh completed, before anything newer. */
  private applyRepaired(
    repaired: readonly { def: RegisteredKey; version: ConfigVersionDoc; oldValue: unknown }[],
  ): void {
    for (const r of repaired) this.values.apply(r.def, r.version, r.oldValue);
  }

  /** What a slot holds now (an override with no value is `unset`, at its version or 0). */
  private current(def: RegisteredKey, scope: Scope): { value: unknown; version: number; unset?: boolean } {
    const slot = slotId(def.key, scope);
    const entry = this.values.peek(slot);
    if (scope === GLOBAL) return { value: this.values.value(def.key), version: entry?.version ?? 0 };
    return entry && !entry.unset
      ? { value: entry.value, version: entry.version }
      : { value: undefined, version: entry?.version ?? 0, unset: true };
  }

  /** After an outage: complete interrupted writes, catch up on changes, write queued audit rows. */
  private recover(): void {
    if (!this.attached) return;
    logger.info('Completing interrupted writes and catching up on changes.');
    void this.refresh().catch((err: unknown) => this.health.noteFailure('recovery', err));
    void this.audit.flush();
  }

  /**
   * A key as a view shows it. At the global scope with no layer asked for: the value in force for
   * this process's environment and `guildId`, with every layer; at an override scope: that layer.
   */
  private entry(def: RegisteredKey, scope: Scope = GLOBAL, guildId?: string): ConfigEntry {
    const overrides = this.values.overridesOf(def.key).length;
    const forced = this.overrides.get(def.key);
    if (scope !== GLOBAL) {
      const slot = this.values.peek(slotId(def.key, scope));
      const held = slot && !slot.unset ? slot : undefined;
      return entryOf(
        def,
        {
          value: held ? held.value : this.resolution.at(def.key, parentOf(scope, this.environment)),
          version: slot?.version ?? 0,
          updatedBy: held?.updatedBy,
          updatedAt: held?.updatedAt,
        },
        { scope, overrides, layers: this.resolution.layers(def, scope) },
      );
    }
    const global = this.values.peek(def.key);
    // Where this view reads from: the server's layer when the key has one, else the environment's.
    const from: Scope =
      guildId && def.scopes.includes('guild') ? `guild:${guildId}` : `env:${this.environment}`;
    const layers = this.resolution.layers(def, from);
    const supplier = layers.find((l) => l.supplies);
    const fromLayer =
      supplier && supplier.scope !== 'global' && supplier.scope !== 'default'
        ? this.values.held(slotId(def.key, supplier.scope))
        : undefined;
    const resolved = this.resolution.at(def.key, from);
    const entry = entryOf(
      def,
      {
        value: forced ? forced.value : resolved,
        version: fromLayer?.version ?? global?.version ?? 0,
        updatedBy: fromLayer?.updatedBy ?? global?.updatedBy,
        updatedAt: fromLayer?.updatedAt ?? global?.updatedAt,
      },
      { scope: GLOBAL, overrides, ...(layers.length > 2 ? { layers } : {}) },
    );
    return forced
      ? { ...entry, override: { variable: forced.variable, storedDisplay: present(def, resolved) } }
      : entry;
  }
}
