import { logger } from '../base/logger.js';
import { ApprovalDesk } from '../approvals/desk.js';
import type { ChangeLog } from '../storage/change-log.js';
import { DecryptError, type ValueCodec } from '../storage/codec.js';
import { bindModels, ensureIndexes, type Actor } from '../storage/config-models.js';
import { ConfigStore } from '../storage/config-store.js';
import type { DbConnection } from '../storage/connection.js';
import { ScheduleStore } from '../storage/schedules.js';
import type { AuditTrail } from '../audit/trail.js';
import type { AuditLog } from './audit-log.js';
import { ConfigWriter } from './config-writer.js';
import { partsOf, type ConfigServiceOptions } from './parts.js';
import type { ChangeBus } from '../changes/bus.js';
import type { LiveValues } from './live-values.js';
import { LastKnownGood, type LastKnownCopy } from './last-known-good.js';
import { ConfigPreviews } from './previews.js';
import { ConfigReader } from './reader.js';
import { ConfigRecords } from './records.js';
import { Refusals } from './refusals.js';
import type { ImpactLevel } from './registry.js';
import { ChangeRequests } from '../approvals/requests.js';
import { rotateAll, type RotationResult } from './rotate.js';
import { RuleCheck } from './rule-check.js';
import { rulesFor } from './rules.js';
import { VersionedSlots } from './slots.js';
import type { TimedChanges } from '../timed/timed.js';
import type { ServiceStats } from './types.js';
import { VersionWriter } from './writer.js';

// Callers import the shared types from the service, as before they had a module of their own.
export type * from './types.js';
export type { ReadAt, Resolved } from './reader.js';
export type { SlotOwner } from '../approvals/desk.js';
export { MASK } from './present.js';
export type { ConfigServiceOptions } from './parts.js';

/**
 * The configuration core every command, job and script calls, one per process: it reads (it is
 * a ConfigReader: memory only), writes (ConfigWriter: checks, approvals, compare-and-set
 * versions, audit), and follows the database (load, repair, catch up, start from the
 * last-known-good copy and attach later). Changes are announced on `events`, the one emitter
 * jobs and listeners follow. What it is made of is built here and nowhere else.
 */
export class ConfigService extends ConfigReader {
  /**
   * The process's one change bus: values and flags applied, this process's commits, other
   * processes' commits noticed, the feed's position. Jobs and listeners follow it.
   */
  readonly events: ChangeBus;
  readonly audit: AuditLog;
  /** The audit rows' hash chain: its beginning, signed checkpoints and verification. */
  readonly trail: AuditTrail;
  readonly conn: DbConnection;
  /** Temporary values' expiries and scheduled changes (see ScheduleRunner). */
  readonly schedules: ScheduleStore;
  /** Versioned slots that are not registry keys (flags), written with the same guarantees. */
  readonly slots: VersionedSlots;
  readonly requests: ChangeRequests;
  /** How many approvals each impact level needs (APPROVALS_REQUIRED). */
  readonly approvals: Partial<Record<ImpactLevel, number>>;
  /** How long a change request stays open (APPROVAL_TTL). */
  readonly approvalTtlMs: number;
  // What the components do, offered here under the names every caller knows (see each one).
  readonly set: ConfigWriter['set'];
  readonly put: ConfigWriter['put'];
  readonly rollback: ConfigWriter['rollback'];
  readonly reset: ConfigWriter['reset'];
  readonly previewRollback: ConfigPreviews['previewRollback'];
  readonly previewSet: ConfigPreviews['previewSet'];
  readonly previewReset: ConfigPreviews['previewReset'];
  readonly useImpactSources: ApprovalDesk['useImpactSources'];
  readonly registerSlotOwner: ApprovalDesk['registerSlotOwner'];
  readonly impactPreview: ApprovalDesk['impactPreview'];
  readonly approvalsFor: ApprovalDesk['approvalsFor'];
  readonly requestBatch: ApprovalDesk['requestBatch'];
  readonly history: ConfigRecords['history'];
  readonly auditLog: ConfigRecords['auditLog'];
  readonly valuesAt: ConfigRecords['valuesAt'];
  readonly currentDocuments: ConfigRecords['currentDocuments'];
  readonly storedVersions: ConfigRecords['storedVersions'];
  readonly storedVersion: ConfigRecords['storedVersion'];
  // Sensitive values as the store keeps them (sealed with the current key), and back (see codec.ts).
  readonly sealValue: ValueCodec['encode'];
  readonly openValue: ValueCodec['decode'];
  readonly resealValue: ValueCodec['reseal'];
  /** The log of committed versions across keys, in order (live streams read it). */
  readonly changes: ChangeLog;
  /** Applies, oldest first, every version of a slot newer than this process has seen. */
  readonly catchUp: LiveValues['catchUp'];
  readonly applyNext: LiveValues['applyNext'];
  /** Calls a listener on every change of `keys` (every key when undefined); returns the unsubscribe. */
  readonly subscribe: ChangeBus['onValues'];
  private readonly store: ConfigStore;
  private readonly codec: ValueCodec;
  private readonly copy: LastKnownGood | undefined;
  private readonly encryptionKeys: readonly Buffer[];
  private readonly versions: VersionWriter;
  private readonly records: ConfigRecords;
  private readonly writer: ConfigWriter;
  private readonly previews: ConfigPreviews;
  private readonly refusalLog: Refusals;
  private readonly desk: ApprovalDesk;
  private readonly detach: (() => void)[];
  private attached: boolean;
  private startedFrom: ServiceStats['startedFrom'];
  private copyWrittenAt: Date | undefined;

  constructor(opts: ConfigServiceOptions) {
    const parts = partsOf(opts);
    super(parts);
    const { registry, values, resolution, health, store, codec, environment } = parts;
    this.events = parts.bus;
    this.conn = opts.conn;
    this.store = store;
    this.codec = codec;
    this.copy = parts.copy;
    this.detach = [];
    this.attached = false;
    this.startedFrom = 'database';
    this.encryptionKeys = opts.encryptionKeys ?? [];
    const encrypts = this.encryptionKeys.length > 0;
    this.approvals = opts.approvals ?? {};
    this.approvalTtlMs = opts.approvalTtlMs ?? 86_400_000;
    this.schedules = new ScheduleStore(opts.conn);
    this.audit = parts.audit;
    this.trail = parts.trail;
    this.versions = new VersionWriter(store, registry, { retries: opts.writeRetries ?? 8 });
    this.slots = new VersionedSlots(store, this.versions, health, () => this.attached);
    this.records = new ConfigRecords({ registry, store, values, audit: this.audit, health, reader: this });
    const rules = new RuleCheck({
      registry,
      rules: opts.rules ?? rulesFor(registry),
      values,
      resolution,
      environment,
    });
    this.refusalLog = new Refusals({ registry, values, reader: this, audit: this.audit, health });
    this.previews = new ConfigPreviews({
      registry,
      values,
      resolution,
      reader: this,
      rules,
      refusals: this.refusalLog,
      store,
      health,
      environment,
      encrypts,
    });
    // The requests call back into the desk and the writer, both made just below.
    this.requests = new ChangeRequests(opts.conn, {
      encode: (key, value) => codec.encode(key, value),
      decode: (key, stored) => codec.decode(key, stored),
      heldVersion: (key, scope) => this.desk.heldVersion(key, scope),
      shown: (key, scope) => this.desk.shown(key, scope),
      apply: (change, request, approvers) =>
        this.desk.ownerOf(change.key)?.apply(change, request, approvers) ??
        this.writer.applyApproved(change, request, approvers),
      audit: (row) => this.audit.record(row),
      preview: (change) => this.desk.impactPreview(change),
    });
    this.desk = new ApprovalDesk({
      registry,
      values,
      resolution,
      reader: this,
      rules,
      requests: this.requests,
      approvals: this.approvals,
      approvalTtlMs: this.approvalTtlMs,
      environment,
      encrypts,
    });
    this.writer = new ConfigWriter({
      bus: this.events,
      registry,
      values,
      resolution,
      reader: this,
      records: this.records,
      rules,
      desk: this.desk,
      refusals: this.refusalLog,
      previews: this.previews,
      versions: this.versions,
      store,
      schedules: this.schedules,
      audit: this.audit,
      health,
      overrides: this.overrides,
      approvals: this.approvals,
      environment,
      encrypts,
      attached: () => this.attached,
    });
    const { writer, previews, desk, records } = this;
    this.set = writer.set.bind(writer);
    this.put = writer.put.bind(writer);
    this.rollback = writer.rollback.bind(writer);
    this.reset = writer.reset.bind(writer);
    this.previewRollback = previews.previewRollback.bind(previews);
    this.previewSet = previews.previewSet.bind(previews);
    this.previewReset = previews.previewReset.bind(previews);
    this.useImpactSources = desk.useImpactSources.bind(desk);
    this.registerSlotOwner = desk.registerSlotOwner.bind(desk);
    this.impactPreview = desk.impactPreview.bind(desk);
    this.approvalsFor = desk.approvalsFor.bind(desk);
    this.requestBatch = desk.requestBatch.bind(desk);
    this.history = records.history.bind(records);
    this.auditLog = records.auditLog.bind(records);
    this.valuesAt = records.valuesAt.bind(records);
    this.currentDocuments = records.currentDocuments.bind(records);
    this.storedVersions = records.storedVersions.bind(records);
    this.storedVersion = records.storedVersion.bind(records);
    this.sealValue = codec.encode.bind(codec);
    this.openValue = codec.decode.bind(codec);
    this.resealValue = codec.reseal.bind(codec);
    this.changes = store.changes;
    this.catchUp = values.catchUp.bind(values);
    this.applyNext = values.applyNext.bind(values);
    this.subscribe = this.events.onValues.bind(this.events);
    this.detach.push(health.onAvailable(() => this.recover()));
    this.detach.push(health.follow(this.conn, () => this.attached));
  }

  /** Temporary (`for:`) and scheduled (`at:`) changes. */
  get timed(): TimedChanges {
    return this.writer.timed;
  }

  /** Refused attempts since start, by `action:CODE` (metrics). */
  get refusals(): Map<string, number> {
    return this.refusalLog.counts;
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
    await this.values.load(await this.versions.prepare(), { overrule: true });
    this.attached = true;
    this.health.noteAvailable();
    this.values.saveCopy();
    void this.audit.flush();
  }

  /** Stops listeners and finishes writing local files. The connection belongs to the caller. */
  async close(): Promise<void> {
    for (const off of this.detach.splice(0)) off();
    this.events.clear();
    await this.values.close();
    await this.audit.settle();
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
    if (repair) this.values.applyAll(await this.versions.repairAll(docs));
    await this.values.load(docs);
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

  /** After an outage: complete interrupted writes, catch up on changes, write queued audit rows. */
  private recover(): void {
    if (!this.attached) return;
    logger.info('Completing interrupted writes and catching up on changes.');
    void this.refresh().catch((err: unknown) => this.health.noteFailure('recovery', err));
    void this.audit.flush();
  }

  // ---- secrets at rest ------------------------------------------------------------------------

  /** Re-encrypts every stored sensitive value with the first encryption key (see rotate.ts). */
  rotateEncryption(actor: Actor): Promise<RotationResult & { keyId: string }> {
    const { store, codec, registry, requests, encryptionKeys } = this;
    return rotateAll(
      { store, codec, registry, requests, keys: encryptionKeys, attached: this.attached },
      actor,
    );
  }
}
