import type { Connection } from 'mongoose';
import { isUnavailableError, isDuplicateKeyError } from '../db/connection.js';
import { DatabaseUnavailableError, UserError } from '../errors.js';
import { errorDetail, logger, LOG_LEVELS, setLogLevel, type LogLevel } from '../logger.js';
import { ConfigCache, type CacheEntry, type CacheStats } from './cache.js';
import { encryptingCodec, plainCodec } from './codec.js';
import { ConfigEvents, type ConfigChange, type ConfigListener } from './events.js';
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
import type { Category, ConfigKey, ConfigValues, RegisteredKey, Registry } from './registry.js';
import { ConfigStore, type AuditFilter } from './store.js';
import { VersionWriter, type Proposal } from './writer.js';
import { checkReason, parseValue, resolveKey, revalidate } from './validate.js';

/** Where a request came from, recorded in the audit log. */
export interface RequestContext {
  guildId?: string;
  channelId?: string;
}

export interface WriteSuccess {
  ok: true;
  key: string;
  action: VersionAction;
  version: number;
  value: unknown;
  oldValue: unknown;
  oldVersion: number;
  warnings: string[];
  restoredFrom?: number;
}
export interface WriteFailure {
  ok: false;
  error: UserError;
}
export type WriteResult = WriteSuccess | WriteFailure;

export interface ConfigEntry {
  key: string;
  category: Category;
  description: string;
  type: string;
  value: unknown;
  /** The value as text, masked for sensitive keys. */
  display: string;
  defaultDisplay: string;
  isDefault: boolean;
  version: number;
  updatedBy: Actor | undefined;
  updatedAt: Date | undefined;
  sensitive: boolean;
  requiresRestart: boolean;
}

export interface ServiceStats {
  cache: CacheStats;
  database: 'connected' | 'unavailable';
  outageSince: Date | undefined;
}

export interface ConfigServiceOptions {
  registry: Registry;
  conn: Connection;
  /** Safety-net full reload of the cache. */
  cacheTtlMs?: number;
  /** Retries of a writer that lost a race before it reports a conflict. */
  writeRetries?: number;
  /** CONFIG_ENCRYPTION_KEY (32 bytes): required when any key is sensitive. */
  encryptionKey?: Buffer;
}

export interface Preview {
  key: string;
  currentVersion: number;
  current: string;
  next: string;
  warnings: string[];
  restoredFrom?: number;
}

export const MASK = '••••••';

/**
 * The configuration core every command, job and script calls. Reads come from memory; writes
 * append a version, then move the current value forward by compare-and-set (see ConfigStore),
 * record an audit row, update this process's cache and announce the change.
 */
export class ConfigService {
  readonly events = new ConfigEvents();
  private readonly cache = new ConfigCache();
  private readonly store: ConfigStore;
  private readonly writer: VersionWriter;
  private readonly registry: Registry;
  private readonly conn: Connection;
  private readonly ttlMs: number;
  private ttlTimer: NodeJS.Timeout | undefined;
  private outageSince: Date | undefined;
  private outageWarned = false;
  private readonly detach: (() => void)[] = [];
  private readonly restartPending = new Set<string>();

  constructor(opts: ConfigServiceOptions) {
    this.registry = opts.registry;
    this.conn = opts.conn;
    const sensitive = new Set([...opts.registry.values()].filter((d) => d.sensitive).map((d) => d.key));
    if (sensitive.size && !opts.encryptionKey) {
      throw new Error(
        `CONFIG_ENCRYPTION_KEY is not set, but ${[...sensitive].join(', ')} ${sensitive.size > 1 ? 'are' : 'is'} sensitive and must be stored encrypted. Generate a key with: openssl rand -base64 32`,
      );
    }
    this.store = new ConfigStore(
      bindModels(opts.conn),
      opts.encryptionKey ? encryptingCodec(sensitive, opts.encryptionKey) : plainCodec,
    );
    this.ttlMs = opts.cacheTtlMs ?? 300_000;
    this.writer = new VersionWriter(this.store, this.registry, {
      retries: opts.writeRetries ?? 8,
      onApplied: (def, version, oldValue) => this.apply(def, version, oldValue),
      unchanged: (def, action, current, restoredFrom) => this.unchanged(def, action, current, restoredFrom),
    });
  }

  /** Creates indexes, completes interrupted writes, seeds missing keys and loads every value. */
  async init(): Promise<void> {
    await ensureIndexes(bindModels(this.conn));
    await this.load(await this.writer.prepare());
    this.watchConnection();
    this.bindLogLevel();
    this.ttlTimer = setInterval(
      () => void this.refresh().catch((e: unknown) => this.noteFailure('refresh', e)),
      this.ttlMs,
    );
    this.ttlTimer.unref();
    logger.info(`Configuration loaded: ${this.cache.stats().keys} keys`);
  }

  /** Stops timers and listeners. The connection belongs to the caller. */
  async close(): Promise<void> {
    clearInterval(this.ttlTimer);
    this.ttlTimer = undefined;
    for (const off of this.detach.splice(0)) off();
    this.events.clear();
  }

  /** The current value, from memory. Never throws for a registered key, even with the database down. */
  get<K extends ConfigKey>(key: K): ConfigValues[K];
  get(key: string): unknown;
  get(key: string): unknown {
    if (this.outageSince && !this.outageWarned) {
      this.outageWarned = true;
      logger.warn('Database unavailable: serving configuration from memory (last known values).');
    }
    const entry = this.cache.read(key);
    if (entry !== undefined) return entry.value;
    const def = this.registry.get(key);
    if (!def) throw new UserError('UNKNOWN_KEY', `Unknown setting ${key}.`, { key });
    return def.default;
  }

  getAll(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of this.registry.keys())
      out[key] = this.cache.peek(key)?.value ?? this.registry.get(key)?.default;
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
    return this.write('set', input, actor, reason, ctx, (def) => {
      const parsed = parseValue(def, value);
      return () => ({ value: parsed.value, warnings: parsed.warnings });
    });
  }

  rollback(
    input: string,
    toVersion: number,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
  ): Promise<WriteResult> {
    return this.write('rollback', input, actor, reason, ctx, async (def) => {
      const checked = await this.rollbackTarget(def, toVersion);
      return () => ({ value: checked.value, warnings: checked.warnings, restoredFrom: toVersion });
    });
  }

  /** What a rollback would change, without writing (the confirmation step shows it). */
  async previewRollback(input: string, toVersion: number): Promise<Preview> {
    const def = resolveKey(this.registry, input);
    const target = await this.guard(() => this.rollbackTarget(def, toVersion));
    return this.preview(def, 'rollback', target.value, target.warnings, toVersion);
  }

  /** What a reset would change, without writing. */
  previewReset(input: string): Preview {
    const def = resolveKey(this.registry, input);
    return this.preview(def, 'reset', def.default, def.warnings?.(def.default) ?? []);
  }

  private preview(
    def: RegisteredKey,
    action: VersionAction,
    next: unknown,
    warnings: string[],
    restoredFrom?: number,
  ): Preview {
    const cur = this.cache.peek(def.key);
    const current = cur?.value ?? def.default;
    if (def.format(next as never) === def.format(current as never))
      throw this.unchanged(def, action, current, restoredFrom);
    return {
      key: def.key,
      currentVersion: cur?.version ?? 0,
      current: this.show(def, current),
      next: this.show(def, next),
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
        `Version must be a whole number of at least 1; got ${toVersion}.`,
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
      return revalidate(def, target.value);
    } catch (err) {
      const why = err instanceof UserError ? err.message : String(err);
      throw new UserError(
        'INVALID_VALUE',
        `Cannot roll back ${def.key} to version ${toVersion}: its value ${this.show(def, target.value)} is not allowed by today's rules. ${why}`,
        { key: def.key, toVersion },
      );
    }
  }

  reset(input: string, actor: Actor, reason?: string, ctx: RequestContext = {}): Promise<WriteResult> {
    return this.write('reset', input, actor, reason, ctx, (def) => () => ({
      value: def.default,
      warnings: def.warnings?.(def.default) ?? [],
    }));
  }

  /** Versions of a key, newest first; `before` pages back from a version number. */
  async history(input: string, opts: { limit?: number; before?: number } = {}): Promise<ConfigVersionDoc[]> {
    const def = resolveKey(this.registry, input);
    const limit = Math.min(Math.max(opts.limit ?? 10, 1), 100);
    const rows = await this.guard(() => this.store.history(def.key, limit, opts.before));
    return def.sensitive ? rows.map((r) => ({ ...r, value: MASK })) : rows;
  }

  async auditLog(filter: AuditFilter = {}): Promise<ConfigAuditDoc[]> {
    const rows = await this.guard(() => this.store.auditLog(filter));
    return rows.map((r) => this.maskAudit(r));
  }

  private maskAudit(r: ConfigAuditDoc): ConfigAuditDoc {
    if (!this.registry.get(r.key)?.sensitive) return r;
    return {
      ...r,
      oldValue: r.oldValue === undefined ? undefined : MASK,
      newValue: r.newValue === undefined ? undefined : MASK,
    };
  }

  /**
   * Counts a write attempt of `actorId` against `limit` per `windowMs`: returns the attempts in
   * the window, and records this one only when it is allowed. Shared by every process through the
   * database; concurrent attempts of one user may overshoot by a little.
   */
  async takeWriteSlot(
    actorId: string,
    limit: number,
    windowMs = 60_000,
  ): Promise<{ allowed: boolean; count: number }> {
    try {
      const now = Date.now();
      const recent = (await this.store.writeTimes(actorId)).filter(
        (t) => now - new Date(t).getTime() < windowMs,
      );
      if (recent.length >= limit) return { allowed: false, count: recent.length };
      await this.store.recordWriteTimes(actorId, [...recent, new Date(now)]);
      return { allowed: true, count: recent.length + 1 };
    } catch (err) {
      if (!isUnavailableError(err)) throw err;
      this.noteFailure('rate limit', err);
      throw new DatabaseUnavailableError(errorDetail(err).error as string);
    }
  }

  /** Records a refused attempt (permission, guild, rate limit) in the audit log. */
  async recordDenied(
    key: string,
    action: AuditAction,
    actor: Actor,
    error: string,
    ctx: RequestContext = {},
  ): Promise<void> {
    await this.audit({ key: key.slice(0, 64), action, status: 'denied', actor, error, ...ctx });
  }

  subscribe(keys: readonly string[] | undefined, listener: ConfigListener): () => void {
    return this.events.subscribe(keys, listener);
  }

  stats(): ServiceStats {
    return {
      cache: this.cache.stats(),
      database: this.outageSince ? 'unavailable' : 'connected',
      outageSince: this.outageSince,
    };
  }

  /**
   * Reloads every current value from the database, completing lagging keys first. A key that
   * moved on elsewhere is caught up version by version, so listeners see every change in order.
   */
  async refresh({ repair = true } = {}): Promise<void> {
    // One read serves both: a key repaired here reaches the cache through apply(), ahead of its
    // stale document, which load() then skips.
    const docs = await this.store.allCurrent();
    if (repair) await this.writer.repairAll(docs);
    await this.load(docs);
  }

  /** Puts current documents in the cache; a key this process already holds is caught up instead. */
  private async load(docs: SystemConfigDoc[]): Promise<void> {
    for (const doc of docs) {
      const def = this.registry.get(doc.key);
      if (!def) continue;
      const cached = this.cache.peek(doc.key);
      if (!cached) this.cache.put(doc.key, this.toEntry(def, doc));
      else if (doc.version > cached.version) await this.catchUp(doc.key);
    }
    this.cache.markRefreshed();
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

  /** Audit rows of a window, oldest first, in batches, with sensitive values masked (exports). */
  async *exportAudit(since: Date, until: Date, batchSize: number): AsyncGenerator<ConfigAuditDoc[]> {
    for await (const batch of this.store.auditBatches(since, until, batchSize))
      yield batch.map((r) => this.maskAudit(r));
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
      const propose = await prepare(def);
      const res = await this.writer.commit(def, action, actor, reason, ctx, (cur) => {
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
      const row = {
        key,
        action,
        status: 'failed',
        oldValue: def ? (oldValue ?? this.cache.peek(key)?.value) : undefined,
        newValue: def ? proposed : undefined,
        actor,
        reason,
        error: error ? error.message : `internal error: ${errorDetail(err).error as string}`,
        ...ctx,
      } as const;
      // With the database unreachable the audit row would wait out its own timeout: answer first.
      if (error?.code === 'UNAVAILABLE') void this.audit(row);
      else await this.audit(row);
      if (!error) throw err;
      return { ok: false, error };
    }
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
      `${def.key} is already ${this.show(def, current)}${what}. Nothing was changed.`,
      {
        key: def.key,
      },
    );
  }

  /** The marker that moves on every committed write (see ConfigStore.changeMarker). */
  changeMarker(): Promise<string | undefined> {
    return this.store.changeMarker();
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
    this.announce({
      key: def.key,
      oldValue,
      newValue: version.value,
      version: version.version,
      action: version.action,
      actor: version.actor,
    });
  }

  private announce(change: ConfigChange): void {
    this.events.emit(change);
  }

  // ---- helpers ---------------------------------------------------------------------------

  private async audit(row: Omit<ConfigAuditDoc, 'createdAt'>): Promise<void> {
    const clean = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)) as Omit<
      ConfigAuditDoc,
      'createdAt'
    >;
    try {
      await this.store.audit({ ...clean, createdAt: new Date() });
    } catch (err) {
      // The attempt itself is already decided; a lost audit row must not turn it into an error.
      this.noteFailure('audit', err);
      if (isUnavailableError(err))
        logger.warn(`Audit row not written (database unavailable): ${row.action} ${row.key} ${row.status}`);
      else logger.error(`Audit row lost for ${row.action} ${row.key} (${row.status})`, errorDetail(err));
    }
  }

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

  /** Records a failed database operation; an unreachable database starts an outage. */
  noteFailure(what: string, err: unknown): void {
    if (!isUnavailableError(err)) {
      logger.error(`Configuration ${what} failed`, errorDetail(err));
      return;
    }
    if (!this.outageSince) {
      this.outageSince = new Date();
      this.outageWarned = false;
      logger.warn(`Database unavailable (${what}): ${errorDetail(err).error as string}`);
    }
  }

  /** Ends an outage: completes interrupted writes and catches up on everything missed. */
  noteAvailable(): void {
    if (!this.outageSince) return;
    logger.info('Database reachable again: completing interrupted writes and catching up on changes.');
    this.outageSince = undefined;
    void this.refresh().catch((err: unknown) => this.noteFailure('recovery', err));
  }

  private watchConnection(): void {
    const down = () =>
      this.noteFailure(
        'connection',
        Object.assign(new Error('connection lost'), { name: 'MongoNetworkError' }),
      );
    const up = () => this.noteAvailable();
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

  private toEntry(def: RegisteredKey, doc: SystemConfigDoc): CacheEntry {
    let value = doc.value;
    try {
      value = revalidate(def, doc.value).value;
    } catch (err) {
      // Rules tightened since it was stored: serve the default rather than a value code can't trust.
      logger.error(`Stored value of ${def.key} (v${doc.version}) fails today's rules; serving the default`, {
        error: err instanceof Error ? err.message : String(err),
      });
      value = def.default;
    }
    return { value, version: doc.version, updatedBy: doc.updatedBy, updatedAt: doc.updatedAt };
  }

  private entry(def: RegisteredKey): ConfigEntry {
    const cached = this.cache.peek(def.key);
    const value = cached?.value ?? def.default;
    return {
      key: def.key,
      category: def.category,
      description: def.description,
      type: def.type,
      value: def.sensitive ? MASK : value,
      display: this.show(def, value),
      defaultDisplay: this.show(def, def.default),
      isDefault: def.format(value as never) === def.format(def.default as never),
      version: cached?.version ?? 0,
      updatedBy: cached?.updatedBy,
      updatedAt: cached?.updatedAt,
      sensitive: def.sensitive,
      requiresRestart: def.requiresRestart,
    };
  }

  /** The registered definition of a key; `input` is what a user typed. */
  definition(input: string): RegisteredKey {
    return resolveKey(this.registry, input);
  }

  /** A value of `input`'s key as users see it: formatted, masked when sensitive. */
  display(input: string, value: unknown): string {
    return this.show(resolveKey(this.registry, input), value);
  }

  /** A value as users see it: formatted, masked when sensitive. */
  show(def: RegisteredKey, value: unknown): string {
    if (def.sensitive) return MASK;
    try {
      return def.format(value as never);
    } catch {
      return JSON.stringify(value);
    }
  }
}
