import type { DatabaseHealth } from '../storage/health.js';
import { DatabaseUnavailableError } from '../base/errors.js';
import type { Actor, ConfigVersionDoc, SystemConfigDoc, VersionAction } from '../storage/config-models.js';
import { GLOBAL } from './scopes.js';
import type { ConfigStore } from '../storage/config-store.js';
import type { RequestContext } from './types.js';
import type { CommitOutcome, Proposal, VersionWriter, Writable } from './writer.js';

const READ_UNAVAILABLE = 'Database unavailable; try again in a moment.';

/**
 * Versioned slots that are not registry keys (feature flags): the same collections, writer,
 * compare-and-set, repair, audit rows and change log as configuration, reached through the
 * service so that one module keeps owning each storage rule. Reads are guarded like the
 * service's: an unreachable database is a plain "unavailable" error.
 */
export class VersionedSlots {
  constructor(
    private readonly store: ConfigStore,
    private readonly writer: VersionWriter,
    private readonly health: DatabaseHealth,
    private readonly attached: () => boolean,
  ) {}

  /** Appends the next version of a global slot (see VersionWriter.commit). */
  async commit(
    slot: Writable,
    action: VersionAction,
    actor: Actor,
    reason: string | undefined,
    ctx: RequestContext,
    next: (cur: SystemConfigDoc) => Proposal,
    meta: { request?: string; approvers?: Actor[] } = {},
  ): Promise<CommitOutcome> {
    if (!this.attached())
      throw new DatabaseUnavailableError('not connected yet (started from the last-known-good copy)');
    return this.writer.commit(slot, GLOBAL, action, actor, reason, ctx, next, meta);
  }

  /** Current documents of every slot starting with `prefix`. */
  withPrefix(prefix: string): Promise<SystemConfigDoc[]> {
    return this.health.guard('read', () => this.store.currentWithPrefix(prefix), READ_UNAVAILABLE);
  }

  current(slot: string): Promise<SystemConfigDoc | null> {
    return this.health.guard('read', () => this.store.current(slot), READ_UNAVAILABLE);
  }

  version(slot: string, version: number): Promise<ConfigVersionDoc | null> {
    return this.health.guard('read', () => this.store.version(slot, version), READ_UNAVAILABLE);
  }

  /** Versions of a slot after `version`, oldest first (catching up on changes made elsewhere). */
  versionsAfter(slot: string, version: number): Promise<ConfigVersionDoc[]> {
    return this.health.guard('read', () => this.store.versionsAfter(slot, version), READ_UNAVAILABLE);
  }

  /** Versions of a slot, newest first (see ConfigStore.history). */
  history(slot: string, limit: number, page: { before?: number } = {}): Promise<ConfigVersionDoc[]> {
    return this.health.guard('read', () => this.store.history(slot, limit, page), READ_UNAVAILABLE);
  }
}
