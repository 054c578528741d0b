import type { AuditLog } from './audit-log.js';
import type { AuditFilter } from '../storage/audit-rows.js';
import type { ChangeLog } from '../storage/change-log.js';
import type { ConfigAuditDoc, ConfigVersionDoc, SystemConfigDoc } from '../storage/config-models.js';
import type { ConfigStore } from '../storage/config-store.js';
import type { DatabaseHealth } from '../storage/health.js';
import type { LiveValues } from './live-values.js';
import { shownVersion, snapshotOf } from './present.js';
import type { ConfigReader } from './reader.js';
import type { Registry } from './registry.js';
import { slotId } from './scopes.js';
import type { SnapshotEntry } from './types.js';
import { resolveKey } from './validate.js';

const READ_UNAVAILABLE = 'Database unavailable; try again in a moment.';

/**
 * What is read from the database rather than memory: versions and history, audit rows, values at
 * a past time, current documents, the change log. Each read reports an unreachable database as
 * the user-facing DatabaseUnavailableError.
 */
export class ConfigRecords {
  constructor(
    private readonly parts: {
      registry: Registry;
      store: ConfigStore;
      values: LiveValues;
      audit: AuditLog;
      health: DatabaseHealth;
      reader: ConfigReader;
    },
  ) {}

  private get registry(): Registry {
    return this.parts.registry;
  }
  private get store(): ConfigStore {
    return this.parts.store;
  }
  private get values(): LiveValues {
    return this.parts.values;
  }
  private get audit(): AuditLog {
    return this.parts.audit;
  }
  private get health(): DatabaseHealth {
    return this.parts.health;
  }
  private get reader(): ConfigReader {
    return this.parts.reader;
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
    const slot = slotId(def.key, this.reader.scopeOf(def, opts.scope));
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

  /**
   * Every slot's current document, read from the database (not memory), values in clear: what a
   * named snapshot records. Pair with sealValue/openValue to keep sensitive values encrypted at rest.
   */
  async currentDocuments(): Promise<SystemConfigDoc[]> {
    return this.health.guard('read', () => this.store.allCurrent(), READ_UNAVAILABLE);
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

  /** The log of committed versions across keys, in order (live streams read it). */
  get changes(): ChangeLog {
    return this.store.changes;
  }
}
