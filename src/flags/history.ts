import { UserError } from '../base/errors.js';
import type { ConfigVersionDoc } from '../storage/config-models.js';
import { parseFlag, type FlagDefinition } from '@config-bot/client/flags';
import { flagChanges } from './diff.js';
import type { HeldFlags } from './held.js';
import { slotOfFlag, type FlagConfig, type FlagVersion } from './types.js';

/** The stored versions of flags, read from the database, each with what it changed. */
export class FlagHistory {
  constructor(
    private readonly slots: Pick<FlagConfig['slots'], 'history' | 'version'>,
    private readonly held: Pick<HeldFlags, 'require' | 'heldVersion'>,
  ) {}

  /** Versions of a flag, newest first, each with what it changed. */
  async history(input: string, opts: { limit?: number; before?: number } = {}): Promise<FlagVersion[]> {
    const name = this.held.require(input).flag.name;
    const limit = Math.min(Math.max(opts.limit ?? 10, 1), 100);
    // One more than shown, to say what the oldest shown version changed.
    const rows = await this.slots.history(slotOfFlag(name), limit + 1, {
      ...(opts.before !== undefined ? { before: opts.before } : {}),
    });
    const versions = rows.map((r) => versionRow(name, r));
    return versions.slice(0, limit).map((v, i) => ({
      ...v,
      changes: flagChanges(versions[i + 1]?.flag ?? (v.version === 1 ? undefined : v.flag), v.flag),
    }));
  }

  /** One stored version of a flag. */
  async versionOf(input: string, version: number): Promise<FlagVersion> {
    const name = this.held.require(input).flag.name;
    const doc = await this.slots.version(slotOfFlag(name), version);
    if (!doc)
      throw new UserError(
        'VERSION_NOT_FOUND',
        `${name} has no version ${version} (it is at version ${this.held.heldVersion(name)}).`,
        { key: slotOfFlag(name) },
      );
    return versionRow(name, doc);
  }
}

function versionRow(name: string, doc: ConfigVersionDoc): FlagVersion {
  const r = parseFlag(doc.value);
  return {
    name,
    version: doc.version,
    // A version this release cannot read still shows in history, with what can be read of it.
    flag: r.ok ? r.flag : (doc.value as FlagDefinition),
    action: doc.action,
    actor: doc.actor,
    ...(doc.reason ? { reason: doc.reason } : {}),
    ...(doc.restoredFrom !== undefined ? { restoredFrom: doc.restoredFrom } : {}),
    createdAt: doc.createdAt,
    changes: [],
  };
}
