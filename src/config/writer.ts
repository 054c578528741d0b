import { setTimeout as sleep } from 'node:timers/promises';
import { isUnavailableError } from '../storage/connection.js';
import { DatabaseUnavailableError, UserError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import {
  SYSTEM_ACTOR,
  type Actor,
  type ConfigVersionDoc,
  type SystemConfigDoc,
  type VersionAction,
} from '../storage/config-models.js';
import { sameValue } from './present.js';
import type { RegisteredKey, Registry } from './registry.js';
import type { RequestContext } from './types.js';
import { GLOBAL, keyOfSlot, slotId, type Scope } from './scopes.js';
import type { ConfigStore, Publishable } from '../storage/config-store.js';

/**
 * What the writer needs of what it writes: a registry key, or another kind of slot (a feature
 * flag). `format` decides whether a proposal equals the current value.
 */
export interface Writable {
  readonly key: string;
  readonly default: unknown;
  format(value: never): string;
  /**
   * Registry keys are seeded with their default when they have no value yet; a slot that says
   * `createdByFirstWrite` (a flag) starts at version 0 and its first write is version 1.
   */
  readonly createdByFirstWrite?: boolean;
}

/** What a write proposes, computed from fresh state on each attempt. */
export interface Proposal {
  value: unknown;
  restoredFrom?: number;
  warnings: string[];
}

/** A write a crash or an outage had left half done, completed: its version is now current. */
export interface Repaired {
  def: RegisteredKey;
  version: ConfigVersionDoc;
  oldValue: unknown;
}

/**
 * What a commit did: wrote a new version, or found the key already at the proposed value. Either
 * way `repaired` lists the interrupted writes it completed on the way, oldest first, for the
 * caller to apply before its own version.
 */
export type CommitOutcome =
  | {
      status: 'committed';
      previous: SystemConfigDoc;
      version: ConfigVersionDoc;
      warnings: string[];
      repaired: Repaired[];
      /** Its position in the change log (absent only when logging it failed; repair logs it). */
      seq?: number;
    }
  | { status: 'unchanged'; current: SystemConfigDoc; restoredFrom?: number; repaired: Repaired[] };

export interface WriterOptions {
  /** Retries of a writer that lost a race before it reports a conflict. */
  retries: number;
}

/**
 * Appends versions without transactions: the unique (key, version) index decides which writer
 * wins a version number; the audit row follows; the current value moves forward by
 * compare-and-set; a change marker tells other processes. Anything a crash or an outage leaves
 * half done (a version ahead of the current value, a missing audit row) is completed by repair,
 * which runs at start, on the next write to the key, and on every refresh.
 */
export class VersionWriter {
  constructor(
    private readonly store: ConfigStore,
    private readonly registry: Registry,
    private readonly opts: WriterOptions,
  ) {}

  /**
   * Completes every write that was interrupted between its version and its current value;
   * `current` is a fresh read of the current documents.
   */
  async repairAll(current: readonly SystemConfigDoc[]): Promise<Repaired[]> {
    const keys = await this.store.lagging(current);
    const repaired: Repaired[] = [];
    for (const key of keys) await this.repairKey(key, repaired);
    return repaired;
  }

  /**
   * Start-up, from one read of the current documents: completes the writes that announced a
   * version they may not have finished (`pending` ahead of `version`), then seeds keys that have no
   * value yet. Returns every current document, for the cache. Nothing here reads the versions
   * collection as a whole: start-up costs the same however long the history grows.
   */
  async prepare(): Promise<SystemConfigDoc[]> {
    const docs = await this.store.allCurrent();
    const fresh: SystemConfigDoc[] = [];
    for (const doc of docs) {
      if ((doc.pending ?? 0) <= doc.version) fresh.push(doc);
      else fresh.push(await this.repaired(doc.key, doc));
    }
    return [...fresh, ...(await this.seedMissing(new Set(docs.map((d) => d.key))))];
  }

  /**
   * Seeds every registered key missing from `present` with its default as version 1; returns the
   * current documents it wrote. A key whose version 1 exists already (a start interrupted after
   * its versions, or another process seeding at the same moment) is completed by repair instead.
   */
  async seedMissing(present: ReadonlySet<string>): Promise<SystemConfigDoc[]> {
    const missing = [...this.registry.values()].filter((d) => !present.has(d.key));
    const now = new Date();
    const docs = missing.map((d) => this.initVersion(d, now));
    // Versions, then their audit rows, then current values: an interrupted start is completed by repair.
    const seeded = new Set(await this.store.seedVersions(docs));
    const written = docs.filter((d) => seeded.has(d.key));
    const positions = await this.store.changes.appendMany(written);
    await this.store.audits.insertSeeded(
      written.map((d) => ({
        key: d.key,
        action: 'init' as const,
        status: 'success' as const,
        newValue: d.value,
        version: 1,
        actor: SYSTEM_ACTOR,
        createdAt: now,
      })),
    );
    const current = await this.store.seedCurrent(written);
    // Seeded by another process starting at the same moment: completed if need be, then loaded
    // like any key found at start (a key left out here would be served as its default).
    for (const d of docs) if (!seeded.has(d.key)) current.push(await this.repaired(d.key));
    if (written.length)
      await this.announceToOthers(
        'seeded keys',
        written.map((doc, i) => ({ seq: positions[i] ?? 0, slot: doc.key, version: doc.version, doc })),
      );
    if (written.length) logger.info(`Seeded ${written.length} keys with their defaults as version 1`);
    return current;
  }

  /** Completes an interrupted write of `key`, then returns its current document as it now is. */
  private async repaired(key: string, fallback?: SystemConfigDoc): Promise<SystemConfigDoc> {
    await this.repairKey(key, []);
    const doc = (await this.store.current(key)) ?? fallback;
    if (!doc) throw new Error(`${key} has a version but no current value after repair`);
    return doc;
  }

  /**
   * Appends the next version of a key at a scope (its slot). `next` computes the proposal from
   * the current document on each attempt (it may throw to refuse); a writer that loses the race
   * retries from fresh state. An override that never existed starts at version 1; the global
   * value is seeded first. Action `unset` removes an override. Throws CONFLICT after the
   * retries, UNAVAILABLE when the database stops answering.
   */
  async commit(
    def: Writable,
    scope: Scope,
    action: VersionAction,
    actor: Actor,
    reason: string | undefined,
    ctx: RequestContext,
    next: (cur: SystemConfigDoc) => Proposal,
    meta: { request?: string; approvers?: Actor[] } = {},
  ): Promise<CommitOutcome> {
    const slot = slotId(def.key, scope);
    const repaired: Repaired[] = [];
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(5 * 2 ** attempt, 200) * (0.5 + Math.random()));
      const found = await this.store.current(slot);
      if (!found && scope === GLOBAL && !def.createdByFirstWrite) {
        await this.seedOne(def, repaired);
        continue;
      }
      // An override with no version yet is an unset slot at version 0.
      const cur: SystemConfigDoc = found ?? {
        key: slot,
        value: null,
        version: 0,
        unset: true,
        updatedBy: SYSTEM_ACTOR,
        updatedAt: new Date(0),
      };
      const proposal = next(cur);
      const unchanged =
        action === 'unset' ? Boolean(cur.unset) : !cur.unset && sameValue(def, proposal.value, cur.value);
      if (unchanged) {
        // Only claim "already" once sure no newer version exists that the current document lags.
        if (await this.store.version(slot, cur.version + 1)) {
          await this.repairKey(slot, repaired);
          continue;
        }
        return {
          status: 'unchanged',
          current: cur,
          repaired,
          ...(proposal.restoredFrom !== undefined ? { restoredFrom: proposal.restoredFrom } : {}),
        };
      }
      const doc: ConfigVersionDoc = {
        key: slot,
        version: cur.version + 1,
        value: action === 'unset' ? null : proposal.value,
        action,
        actor,
        ...(reason ? { reason } : {}),
        ...(proposal.restoredFrom !== undefined ? { restoredFrom: proposal.restoredFrom } : {}),
        ...(meta.request ? { request: meta.request } : {}),
        ...(meta.approvers?.length ? { approvers: meta.approvers } : {}),
        createdAt: new Date(),
      };
      // The version this one follows is in the change log before it: a current document moved
      // by this release says so (`logged`); one written before the log existed is logged now.
      if (found && !found.logged) await this.store.changes.ensure(slot, cur.version);
      // The intent goes first: if this process dies after the version and before the current
      // document moves, the next start finds the key from the current documents alone.
      await this.store.markPending(slot, doc.version);
      if (!(await this.store.insertVersion(doc))) {
        // Lost the race for this version number, or a crashed writer left it: complete, then retry.
        await this.repairKey(slot, repaired);
        continue;
      }
      // From here the change is committed: the version exists, and versions are the source of truth.
      // The audit row goes before the current value moves: a crash in between leaves the key
      // lagging, and the repair that completes it also writes any audit row still missing.
      let seq: number | undefined;
      try {
        // Logged before the current value moves, so the slot's versions keep their order there.
        seq = await this.store.changes.append(slot, doc.version);
        await this.store.audits.upsertCommitted({
          key: def.key,
          ...(scope !== GLOBAL ? { scope } : {}),
          action,
          status: 'success',
          ...(cur.unset ? {} : { oldValue: cur.value }),
          ...(action === 'unset' ? {} : { newValue: doc.value }),
          version: doc.version,
          actor,
          ...(reason ? { reason } : {}),
          ...ctx,
          createdAt: new Date(),
        });
        if (!(await this.store.advance(slot, found ? cur.version : null, doc)))
          await this.settle(slot, doc.version, repaired);
      } catch (err) {
        if (!isUnavailableError(err)) {
          // Committed all the same: the version exists, and repair completes what is missing.
          logger.error(
            `After committing ${slot} v${doc.version}, a follow-up write failed`,
            errorDetail(err),
          );
          return {
            status: 'committed',
            previous: cur,
            version: doc,
            warnings: proposal.warnings,
            repaired,
            ...(seq ? { seq } : {}),
          };
        }
        throw new DatabaseUnavailableError(
          errorDetail(err).error as string,
          `Database became unavailable while saving ${def.key}${scope !== GLOBAL ? ` (${scope})` : ''}. Version ${doc.version} was recorded and will be applied automatically when the database is back.`,
        );
      }
      await this.announceToOthers(slot, [{ seq, slot, version: doc.version, doc }]);
      return { status: 'committed', previous: cur, version: doc, warnings: proposal.warnings, repaired, seq };
    }
    throw new UserError('CONFLICT', `${def.key} was changed concurrently by someone else; try again.`, {
      key: def.key,
    });
  }

  /**
   * Brings the current document up to at least `version` after our compare-and-set missed.
   * On MongoDB only a repair by another process can have moved it (and that applies our version).
   * FerretDB 1.x runs updateOne as a read followed by a write, so a concurrent writer's stale
   * update can even move it back; repairing forward from the versions restores it.
   */
  private async settle(key: string, version: number, repaired: Repaired[]): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const cur = await this.store.current(key);
      if (cur && cur.version >= version) return;
      await this.repairKey(key, repaired);
    }
    logger.warn(
      `Current document of ${key} still behind v${version}; the next write or refresh completes it`,
    );
  }

  /** Completes an interrupted write of `key`, if there is one; what it completed is added to `into`. */
  async repairKey(key: string, into: Repaired[]): Promise<void> {
    const def = this.registry.get(keyOfSlot(key));
    const fixed = await this.store.repair(key);
    if (!fixed) return;
    await this.announceToOthers(
      key,
      fixed.logged.map((l) => (l.version === fixed.to.version ? { ...l, doc: fixed.to } : l)),
    );
    logger.warn(`Completed an interrupted write: ${key} is now version ${fixed.to.version}`);
    // Slots that are not registry keys (flags) are applied by their own owner, through the feed.
    if (def) into.push({ def, version: fixed.to, oldValue: fixed.from?.value });
  }

  private async seedOne(def: Writable, repaired: Repaired[]): Promise<void> {
    const doc = this.initVersion(def, new Date());
    if (await this.store.insertVersion(doc)) {
      const seq = await this.store.changes.append(def.key, doc.version);
      await this.store.audits.insertSeeded([
        {
          key: def.key,
          action: 'init',
          status: 'success',
          newValue: doc.value,
          version: 1,
          actor: SYSTEM_ACTOR,
          createdAt: new Date(),
        },
      ]);
      await this.store.advance(def.key, null, doc);
      await this.announceToOthers(def.key, [{ seq, slot: def.key, version: doc.version, doc }]);
    } else {
      await this.repairKey(def.key, repaired);
    }
  }

  private initVersion(def: Writable, createdAt: Date): ConfigVersionDoc {
    return { key: def.key, version: 1, value: def.default, action: 'init', actor: SYSTEM_ACTOR, createdAt };
  }

  /**
   * Publishes committed versions to the change log's tail, which other processes poll. A failure
   * only delays them: they find the entry in the log when the next one is published, or at their
   * next full refresh.
   */
  private async announceToOthers(key: string, logged: readonly Publishable[]): Promise<void> {
    await this.store.publish(logged).catch((err: unknown) => {
      logger.warn(`Could not signal the change of ${key} to other processes`, errorDetail(err));
    });
  }
}
