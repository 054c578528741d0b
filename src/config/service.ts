import type { Connection } from 'mongoose';
import { isDuplicateKeyError, isUnavailableError } from '../db/connection.js';
import { DatabaseHealth } from '../db/health.js';
import { DatabaseUnavailableError, UserError } from '../errors.js';
import { errorDetail, logger, LOG_LEVELS, setLogLevel, type LogLevel } from '../logger.js';
import { AuditLog, type AuditRow } from './audit-log.js';
import { ConfigCache, type CacheEntry } from './cache.js';
import { encryptingCodec, keyId, type ValueCodec } from './codec.js';
import { ConfigEvents, type ConfigListener } from './events.js';
import { LastKnownGood, type LastKnownCopy } from './last-known-good.js';
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
import { masked, present, sameValue } from './present.js';
import { WriteRateLimiter, type RateLimits } from './rate-limit.js';
import { rotateEncryption, type RotationResult } from './rotate.js';
import type { Category, ConfigKey, ConfigValues, RegisteredKey, Registry } from './registry.js';
import { ConfigStore, type AuditFilter } from './store.js';
import type {
  ConfigEntry,
  Preview,
  RequestContext,
  ServiceStats,
  SnapshotEntry,
  WriteOptions,
  WriteResult,
  WriteSuccess,
} from './types.js';
import { checkReason, parseValue, resolveKey, revalidate } from './validate.js';
import { VersionWriter, type Proposal } from './writer.js';

// Callers import the shared types from the service, as before they had a module of their own.
export type * from './types.js';
export { MASK } from './present.js';

export interface ConfigServiceOptions {
  registry: Registry;
  conn: Connection;
  /** Safety-net full reload of the cache. */
  cacheTtlMs?: number;
  /** Retries of a writer that lost a race before it reports a conflict. */
  writeRetries?: number;
  /** CONFIG_ENCRYPTION_KEYS: the first encrypts new sensitive values; every one is tried for stored ones. */
  encryptionKeys?: readonly Buffer[];
  /** Whether the database answers; shared with the rest of the process. One is made when omitted. */
  health?: DatabaseHealth;
  /** Local files (in DATA_DIR): the last-known-good copy, and audit rows waiting out an outage. */
  files?: { lastKnownGood: string; auditQueue: string; database: string };
}

/**
 * The configuration core every command, job and script calls. Reads come from memory; writes
 * append a version, then move the current value forward by compare-and-set (see VersionWriter),
 * record an audit row, update this process's cache and announce the change. It can start from a
 * last-known-good copy while the database is unreachable and attach to the database later.
 */
export class ConfigService {
  readonly events = new ConfigEvents();
  readonly health: DatabaseHealth;
  private readonly cache = new ConfigCache();
  private readonly store: ConfigStore;
  private readonly writer: VersionWriter;
  private readonly audit: AuditLog;
  private readonly copy: LastKnownGood | undefined;
  private readonly registry: Registry;
  private readonly conn: Connection;
  private readonly ttlMs: number;
  private readonly encrypts: boolean;
  private readonly encryptionKeys: readonly Buffer[];
  private readonly codec: ValueCodec;
  private ttlTimer: NodeJS.Timeout | undefined;
  private readonly detach: (() => void)[] = [];
  private readonly restartPending = new Set<string>();
  private attached = false;
  private background = false;
  private startedFrom: ServiceStats['startedFrom'] = 'database';
  private copyWrittenAt: Date | undefined;
  /** Keys whose cached value came from the last-known-good copy and not yet from the database. */
  private readonly fromCopy = new Set<string>();

  constructor(opts: ConfigServiceOptions) {
    this.registry = opts.registry;
    this.conn = opts.conn;
    this.health = opts.health ?? new DatabaseHealth();
    const sensitive = new Set([...opts.registry.values()].filter((d) => d.sensitive).map((d) => d.key));
    const keys = opts.encryptionKeys ?? [];
    this.encryptionKeys = keys;
    this.encrypts = keys.length > 0;
    const codec = encryptingCodec(sensitive, keys);
    this.codec = codec;
    this.store = new ConfigStore(bindModels(opts.conn), codec);
    this.audit = new AuditLog(
      this.store,
      this.registry,
      this.health,
      opts.files ? { queueFile: opts.files.auditQueue } : {},
    );
    this.copy = opts.files
      ? new LastKnownGood(opts.files.lastKnownGood, opts.files.database, codec)
      : undefined;
    this.ttlMs = opts.cacheTtlMs ?? 300_000;
    this.writer = new VersionWriter(this.store, this.registry, {
      retries: opts.writeRetries ?? 8,
      onApplied: (def, version, oldValue) => this.apply(def, version, oldValue),
      unchanged: (def, action, current, restoredFrom) => this.unchanged(def, action, current, restoredFrom),
    });
    this.detach.push(this.health.onAvailable(() => this.recover()));
  }

  /** Starts with the database: creates indexes, completes interrupted writes, seeds and loads. */
  async init(): Promise<void> {
    await this.audit.loadQueue();
    await this.attach();
    this.startBackground();
    logger.info(`Configuration loaded: ${this.cache.stats().keys} keys`);
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
    for (const [key, entry] of copy.entries) {
      const def = this.registry.get(key);
      if (!def) continue;
      this.cache.put(key, this.checked(def, entry));
      this.fromCopy.add(key);
    }
    this.startedFrom = 'last-known-good copy';
    this.copyWrittenAt = copy.writtenAt;
    this.health.startOutage('start', reason);
    this.startBackground();
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
    await this.load(await this.writer.prepare(), { overrule: true });
    this.attached = true;
    this.health.noteAvailable();
    this.saveCopy();
    void this.audit.flush();
  }

  /** Stops timers and listeners, and finishes writing local files. The connection belongs to the caller. */
  async close(): Promise<void> {
    clearInterval(this.ttlTimer);
    this.ttlTimer = undefined;
    for (const off of this.detach.splice(0)) off();
    this.events.clear();
    await this.copy?.flush();
    await this.audit.settle();
  }

  /** The current value, from memory. Never throws for a registered key, even with the database down. */
  get<K extends ConfigKey>(key: K): ConfigValues[K];
  get(key: string): unknown;
  get(key: string): unknown {
    this.health.warnServingFromMemory();
    const entry = this.cache.read(key);
    if (entry !== undefined) return entry.value;
    const def = this.registry.get(key);
    if (!def) throw new UserError('UNKNOWN_KEY', `Unknown setting ${key}.`, { key });
    return def.default;
  }

  getAll(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of this.registry.keys()) out[key] = this.valueOf(key);
    return out;
  }

  /** One key with its metadata; `input` is what a user typed (case-insensitive). */
  describe(input: string): ConfigEntry {
    return this.entry(resolveKey(this.registry, input));
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

  set(
    input: string,
    value: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
  ): Promise<WriteResult> {
    return this.write('set', input, actor, reason, ctx, {}, (def) => {
      const parsed = parseValue(def, value);
      this.requireEncryption(def, parsed.value);
      return () => ({ value: parsed.value, warnings: parsed.warnings });
    });
  }

  rollback(
    input: string,
    toVersion: number,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.write('rollback', input, actor, reason, ctx, opts, async (def) => {
      const checked = await this.rollbackTarget(def, toVersion);
      return () => ({ value: checked.value, warnings: checked.warnings, restoredFrom: toVersion });
    });
  }

  reset(
    input: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.write('reset', input, actor, reason, ctx, opts, (def) => () => ({
      value: def.default,
      warnings: def.warnings?.(def.default) ?? [],
    }));
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
  ): Promise<Preview> {
    return this.auditedPreview('rollback', input, actor, reason, ctx, async (def) => {
      const target = await this.guard(() => this.rollbackTarget(def, toVersion));
      return this.preview(def, 'rollback', target.value, target.warnings, toVersion);
    });
  }

  /** What a reset would change, without writing; a refusal (already the default) is audited. */
  async previewReset(
    input: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
  ): Promise<Preview> {
    return this.auditedPreview('reset', input, actor, reason, ctx, (def) =>
      this.preview(def, 'reset', def.default, def.warnings?.(def.default) ?? []),
    );
  }

  /** Versions of a key, newest first: the newest page, or the page below `before` or above `after`. */
  async history(
    input: string,
    opts: { limit?: number; before?: number; after?: number } = {},
  ): Promise<ConfigVersionDoc[]> {
    const def = resolveKey(this.registry, input);
    const limit = Math.min(Math.max(opts.limit ?? 10, 1), 100);
    const rows = await this.guard(() => this.store.history(def.key, limit, opts));
    return rows.map((r) => ({ ...r, value: masked(def, r.value) }));
  }

  async auditLog(filter: AuditFilter = {}): Promise<ConfigAuditDoc[]> {
    return this.guard(() => this.audit.view(filter));
  }

  /** Records a refused attempt (permission, guild, rate limit) in the audit log. */
  async recordDenied(
    key: string,
    action: AuditAction,
    actor: Actor,
    error: string,
    ctx: RequestContext = {},
  ): Promise<void> {
    await this.audit.record({ key: key.slice(0, 64), action, status: 'denied', actor, error, ...ctx });
  }

  /**
   * Records an event that is not a change of one key (an export re-run, a key rotation) in the
   * audit log, with `key` '*' unless given.
   */
  async recordAudit(row: Omit<AuditRow, 'key'> & { key?: string }): Promise<void> {
    await this.audit.record({ ...row, key: row.key ?? '*' });
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
    return { ...(await rotateEncryption(this.store, this.codec, this.registry, id, actor)), keyId: id };
  }

  /** The per-user write limits, counted in this service's database. */
  rateLimiter(limits: RateLimits): WriteRateLimiter {
    return new WriteRateLimiter(this.store, this.health, limits);
  }

  subscribe(keys: readonly string[] | undefined, listener: ConfigListener): () => void {
    return this.events.subscribe(keys, listener);
  }

  stats(): ServiceStats {
    return {
      cache: this.cache.stats(),
      database: this.health.available ? 'connected' : 'unavailable',
      outageSince: this.health.outageSince,
      startedFrom: this.startedFrom,
      copyWrittenAt: this.copyWrittenAt,
      auditQueued: this.audit.queued,
    };
  }

  /**
   * Reloads every current value from the database, completing lagging keys first. A key that
   * moved on elsewhere is caught up version by version, so listeners see every change in order.
   */
  async refresh({ repair = true } = {}): Promise<void> {
    if (!this.attached) return;
    // One read serves both: a key repaired here reaches the cache through apply(), ahead of its
    // stale document, which load() then skips.
    const docs = await this.store.allCurrent();
    if (repair) await this.writer.repairAll(docs);
    await this.load(docs);
  }

  /** Applies, oldest first, every version of `key` newer than this process has seen. */
  async catchUp(key: string): Promise<number> {
    const def = this.registry.get(key);
    const cached = this.cache.peek(key);
    if (!def || !cached) return 0;
    const newer = await this.store.versionsAfter(key, cached.version);
    let previous = cached.value;
    for (const v of newer) {
      this.apply(def, v, previous);
      previous = v.value;
    }
    return newer.length;
  }

  /** The version this process holds for a key (0 when none). */
  cachedVersion(key: string): number {
    return this.cache.peek(key)?.version ?? 0;
  }

  /** Keys marked requiresRestart that changed since this process started. */
  pendingRestart(): string[] {
    return [...this.restartPending].sort();
  }

  /**
   * Every key's value as it was at `at` (from the versions; from memory for keys unchanged since),
   * sensitive ones masked: the snapshot of an export of a past date. A key with no version by then
   * did not exist yet: it has its default and version 0.
   */
  async valuesAt(at: Date): Promise<SnapshotEntry[]> {
    return this.guard(async () => {
      const out: SnapshotEntry[] = [];
      for (const def of this.registry.values()) {
        const cached = this.cache.peek(def.key);
        const current =
          cached && cached.updatedAt <= at
            ? {
                value: cached.value,
                version: cached.version,
                actor: cached.updatedBy,
                createdAt: cached.updatedAt,
              }
            : await this.store.versionAt(def.key, at);
        const value = current ? current.value : def.default;
        out.push({
          key: def.key,
          value: masked(def, value),
          display: present(def, value),
          version: current?.version ?? 0,
          updatedAt: current?.createdAt,
          updatedBy: current?.actor,
          sensitive: def.sensitive,
        });
      }
      return out;
    });
  }

  /** Audit rows written in [since, until), oldest first, in batches, sensitive values masked (exports). */
  exportAudit(since: Date, until: Date, batchSize: number): AsyncGenerator<ConfigAuditDoc[]> {
    return this.audit.batches(since, until, batchSize);
  }

  /** The time of the first audit row (where the first export starts), if any. */
  async firstAuditAt(): Promise<Date | undefined> {
    return this.guard(() => this.store.firstAuditAt());
  }

  /** The marker that moves on every committed write (see ConfigStore.changeMarker). */
  changeMarker(): Promise<string | undefined> {
    return this.store.changeMarker();
  }

  /** The registered definition of a key; `input` is what a user typed. */
  definition(input: string): RegisteredKey {
    return resolveKey(this.registry, input);
  }

  /** A value of `input`'s key as users see it: formatted, masked when sensitive. */
  display(input: string, value: unknown): string {
    return present(resolveKey(this.registry, input), value);
  }

  /** A value as users see it: formatted, masked when sensitive. */
  show(def: RegisteredKey, value: unknown): string {
    return present(def, value);
  }

  /** Records a failed database operation; an unreachable database starts an outage. */
  noteFailure(what: string, err: unknown): void {
    this.health.noteFailure(what, err);
  }

  /** Ends an outage: completes interrupted writes, catches up, writes queued audit rows. */
  noteAvailable(): void {
    this.health.noteAvailable();
  }

  // ---- writes ----------------------------------------------------------------------------

  /**
   * The one write path. `prepare` validates what can be checked once (input, target version)
   * and returns a function computing the new value from fresh state on each attempt.
   */
  private async write(
    action: VersionAction,
    input: string,
    actor: Actor,
    rawReason: string | undefined,
    ctx: RequestContext,
    opts: WriteOptions,
    prepare: (def: RegisteredKey) => (() => Proposal) | Promise<() => Proposal>,
  ): Promise<WriteResult> {
    let key = input.slice(0, 64);
    let reason: string | undefined;
    let oldValue: unknown;
    let proposed: unknown;
    try {
      reason = checkReason(rawReason);
      const def = resolveKey(this.registry, input);
      key = def.key;
      if (!this.attached)
        throw new DatabaseUnavailableError('not connected yet (started from the last-known-good copy)');
      const propose = await prepare(def);
      const res = await this.writer.commit(def, action, actor, reason, ctx, (cur) => {
        if (opts.expectedVersion !== undefined && cur.version !== opts.expectedVersion) {
          throw new UserError(
            'CONFLICT',
            `${def.key} changed since this preview (v${opts.expectedVersion} → v${cur.version}); nothing was changed. Run the command again to see what it would do now.`,
            { key: def.key },
          );
        }
        oldValue = cur.value;
        const p = propose();
        proposed = p.value;
        return p;
      });
      const success: WriteSuccess = {
        ok: true,
        key,
        action,
        version: res.version.version,
        value: res.version.value,
        oldValue: res.previous.value,
        oldVersion: res.previous.version,
        warnings: res.warnings,
        ...(res.version.restoredFrom !== undefined ? { restoredFrom: res.version.restoredFrom } : {}),
      };
      this.apply(def, res.version, res.previous.value);
      return success;
    } catch (err) {
      const error = this.toUserError(err, key, action);
      const def = this.registry.get(key);
      const row: AuditRow = {
        key,
        action,
        status: 'failed',
        oldValue: def ? (oldValue ?? this.cache.peek(key)?.value) : undefined,
        newValue: def ? proposed : undefined,
        actor,
        reason,
        error: error ? error.message : `internal error: ${errorDetail(err).error as string}`,
        ...ctx,
      };
      // With the database unreachable the row is queued: answer first.
      if (error?.code === 'UNAVAILABLE') void this.audit.record(row);
      else await this.audit.record(row);
      if (!error) throw err;
      return { ok: false, error };
    }
  }

  /** Runs a preview; a refusal is recorded as a failed attempt of `action`, then thrown. */
  private async auditedPreview(
    action: VersionAction,
    input: string,
    actor: Actor,
    rawReason: string | undefined,
    ctx: RequestContext,
    run: (def: RegisteredKey) => Preview | Promise<Preview>,
  ): Promise<Preview> {
    let key = input.slice(0, 64);
    try {
      const def = resolveKey(this.registry, input);
      key = def.key;
      return await run(def);
    } catch (err) {
      const error = this.toUserError(err, key, action);
      let reason: string | undefined;
      try {
        reason = checkReason(rawReason);
      } catch {
        reason = undefined;
      }
      const row: AuditRow = {
        key,
        action,
        status: 'failed',
        actor,
        reason,
        error: error ? error.message : `internal error: ${errorDetail(err).error as string}`,
        ...ctx,
      };
      if (error?.code === 'UNAVAILABLE') void this.audit.record(row);
      else await this.audit.record(row);
      throw error ?? err;
    }
  }

  private preview(
    def: RegisteredKey,
    action: VersionAction,
    next: unknown,
    warnings: string[],
    restoredFrom?: number,
  ): Preview {
    const cur = this.cache.peek(def.key);
    const current = this.valueOf(def.key);
    if (sameValue(def, next, current)) throw this.unchanged(def, action, current, restoredFrom);
    return {
      key: def.key,
      currentVersion: cur?.version ?? 0,
      current: present(def, current),
      next: present(def, next),
      warnings,
      ...(restoredFrom !== undefined ? { restoredFrom } : {}),
    };
  }

  /** The value of `toVersion`, checked against today's rules. */
  private async rollbackTarget(
    def: RegisteredKey,
    toVersion: number,
  ): Promise<{ value: unknown; warnings: string[] }> {
    if (!Number.isSafeInteger(toVersion) || toVersion < 1) {
      throw new UserError(
        'VERSION_NOT_FOUND',
        `Version must be a whole number of at least 1; got ${String(toVersion)}.`,
        { key: def.key },
      );
    }
    const target = await this.store.version(def.key, toVersion);
    if (!target) {
      const latest = this.cache.peek(def.key)?.version;
      throw new UserError(
        'VERSION_NOT_FOUND',
        `${def.key} has no version ${toVersion}${latest ? ` (versions 1-${latest} exist)` : ''}.`,
        { key: def.key, toVersion },
      );
    }
    try {
      const checked = revalidate(def, target.value);
      this.requireEncryption(def, checked.value);
      return checked;
    } catch (err) {
      if (err instanceof UserError && err.code === 'ENCRYPTION_REQUIRED') throw err;
      const why = err instanceof UserError ? err.message : String(err);
      throw new UserError(
        'INVALID_VALUE',
        `Cannot roll back ${def.key} to version ${toVersion}: its value ${present(def, target.value)} is not allowed by today's rules. ${why}`,
        { key: def.key, toVersion },
      );
    }
  }

  /** A sensitive value can only be stored encrypted: without a key, refuse before anything is written. */
  private requireEncryption(def: RegisteredKey, value: unknown): void {
    if (!def.sensitive || value === null || value === undefined || this.encrypts) return;
    throw new UserError(
      'ENCRYPTION_REQUIRED',
      `${def.key} is sensitive and is stored encrypted, but this bot has no CONFIG_ENCRYPTION_KEYS. Generate a key (openssl rand -base64 32), set CONFIG_ENCRYPTION_KEYS to it for every bot process, restart, and try again. Nothing was changed.`,
      { key: def.key },
    );
  }

  private unchanged(
    def: RegisteredKey,
    action: VersionAction,
    current: unknown,
    restoredFrom?: number,
  ): UserError {
    const what = restoredFrom
      ? ` (the value of version ${restoredFrom})`
      : action === 'reset'
        ? ' (its default)'
        : '';
    return new UserError(
      'UNCHANGED',
      `${def.key} is already ${present(def, current)}${what}. Nothing was changed.`,
      {
        key: def.key,
      },
    );
  }

  /** Updates this process's cache and tells listeners, once a version is committed. */
  private apply(def: RegisteredKey, version: ConfigVersionDoc, oldValue: unknown): void {
    const entry: CacheEntry = {
      value: version.value,
      version: version.version,
      updatedBy: version.actor,
      updatedAt: version.createdAt,
    };
    if (!this.cache.put(def.key, entry)) return;
    if (def.requiresRestart) this.restartPending.add(def.key);
    this.saveCopy();
    this.events.emit({
      key: def.key,
      oldValue,
      newValue: version.value,
      version: version.version,
      action: version.action,
      actor: version.actor,
    });
  }

  // ---- loading ---------------------------------------------------------------------------

  /**
   * Puts current documents in the cache; a key this process already holds is caught up instead.
   * With `overrule` (attaching after a start from the copy), a key the copy holds at a version
   * the database does not have (a restored backup) takes the database's value, announced.
   */
  private async load(docs: SystemConfigDoc[], { overrule = false } = {}): Promise<void> {
    for (const doc of docs) {
      const def = this.registry.get(doc.key);
      if (!def) continue;
      const cached = this.cache.peek(doc.key);
      if (!cached) this.cache.put(doc.key, this.toEntry(def, doc));
      else if (doc.version > cached.version) await this.catchUp(doc.key);
      else if (overrule && this.fromCopy.has(doc.key) && doc.version < cached.version) {
        logger.warn(
          `${doc.key}: the database holds v${doc.version} but the last-known-good copy had v${cached.version}; using the database`,
        );
        const entry = this.toEntry(def, doc);
        this.cache.replace(doc.key, entry);
        const version = await this.store.version(doc.key, doc.version);
        this.fromCopy.delete(doc.key);
        this.events.emit({
          key: doc.key,
          oldValue: cached.value,
          newValue: entry.value,
          version: entry.version,
          action: version?.action ?? 'set',
          actor: doc.updatedBy,
        });
      }
    }
    for (const doc of docs) this.fromCopy.delete(doc.key);
    this.cache.markRefreshed();
  }

  private toEntry(def: RegisteredKey, doc: SystemConfigDoc): CacheEntry {
    return this.checked(def, {
      value: doc.value,
      version: doc.version,
      updatedBy: doc.updatedBy,
      updatedAt: doc.updatedAt,
    });
  }

  /** An entry whose value passes today's rules; otherwise the default, logged. */
  private checked(def: RegisteredKey, entry: CacheEntry): CacheEntry {
    try {
      return { ...entry, value: revalidate(def, entry.value).value };
    } catch (err) {
      // Rules tightened since it was stored: serve the default rather than a value code can't trust.
      logger.error(
        `Stored value of ${def.key} (v${entry.version}) fails today's rules; serving the default`,
        {
          error: err instanceof Error ? err.message : String(err),
        },
      );
      return { ...entry, value: def.default };
    }
  }

  private saveCopy(): void {
    this.copy?.schedule(() => this.cache.all());
  }

  // ---- background ------------------------------------------------------------------------

  private startBackground(): void {
    if (this.background) return;
    this.background = true;
    this.watchConnection();
    this.bindLogLevel();
    this.ttlTimer = setInterval(
      () => void this.refresh().catch((e: unknown) => this.noteFailure('refresh', e)),
      this.ttlMs,
    );
    this.ttlTimer.unref();
  }

  /** After an outage: complete interrupted writes, catch up on changes, write queued audit rows. */
  private recover(): void {
    if (!this.attached) return;
    logger.info('Completing interrupted writes and catching up on changes.');
    void this.refresh().catch((err: unknown) => this.noteFailure('recovery', err));
    void this.audit.flush();
  }

  private watchConnection(): void {
    const down = () =>
      this.noteFailure(
        'connection',
        Object.assign(new Error('connection lost'), { name: 'MongoNetworkError' }),
      );
    const up = () => {
      if (this.attached) this.noteAvailable();
    };
    this.conn.on('disconnected', down);
    this.conn.on('reconnected', up);
    this.conn.on('connected', up);
    this.detach.push(() => {
      this.conn.off('disconnected', down);
      this.conn.off('reconnected', up);
      this.conn.off('connected', up);
    });
  }

  private bindLogLevel(): void {
    if (!this.registry.has('LOG_LEVEL')) return;
    const applyLevel = (v: unknown) => {
      if (LOG_LEVELS.includes(v as LogLevel)) setLogLevel(v as LogLevel);
    };
    applyLevel(this.get('LOG_LEVEL'));
    this.detach.push(this.subscribe(['LOG_LEVEL'], (c) => applyLevel(c.newValue)));
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** The user-facing form of a failure, or undefined for a bug (which the caller rethrows). */
  private toUserError(err: unknown, key: string, action: string): UserError | undefined {
    if (err instanceof UserError) return err;
    if (isUnavailableError(err)) {
      this.noteFailure(action, err);
      return new DatabaseUnavailableError(errorDetail(err).error as string);
    }
    if (isDuplicateKeyError(err)) {
      return new UserError('CONFLICT', `${key} was changed concurrently by someone else; try again.`, {
        key,
      });
    }
    return undefined;
  }

  /** Runs a read against the database, turning "cannot reach it" into the user-facing error. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!isUnavailableError(err)) throw err;
      this.noteFailure('read', err);
      throw new DatabaseUnavailableError(
        errorDetail(err).error as string,
        'Database unavailable; try again in a moment.',
      );
    }
  }

  /** The cached value of a key, or its default when it has none yet. */
  private valueOf(key: string): unknown {
    const cached = this.cache.peek(key);
    return cached ? cached.value : this.registry.get(key)?.default;
  }

  private entry(def: RegisteredKey): ConfigEntry {
    const cached = this.cache.peek(def.key);
    const value = this.valueOf(def.key);
    return {
      key: def.key,
      category: def.category,
      description: def.description,
      type: def.type,
      value: masked(def, value),
      display: present(def, value),
      defaultDisplay: present(def, def.default),
      isDefault: sameValue(def, value, def.default),
      version: cached?.version ?? 0,
      updatedBy: cached?.updatedBy,
      updatedAt: cached?.updatedAt,
      sensitive: def.sensitive,
      requiresRestart: def.requiresRestart,
    };
  }
}
