import { UserError } from '../base/errors.js';
import { SYSTEM_ACTOR, type Actor } from '../storage/config-models.js';
import type { RequestContext } from '../config/types.js';
import type { FlagDefinition, FlagInput } from '@config-bot/client/flags';
import type { FlagCommit } from './commit.js';
import { flagChanges } from './diff.js';
import type { HeldFlags } from './held.js';
import type { FlagHistory } from './history.js';
import { slotOfFlag, type FlagRollbackPreview, type FlagWrite, type FlagWriteOptions } from './types.js';

/**
 * What people and the system do to flags: create, edit, archive, roll back (with its preview) and
 * the automatic kill. Each states what it proposes from the flag as it is; FlagCommit writes it.
 */
export class FlagWrites {
  constructor(
    private readonly commit: Pick<FlagCommit, 'write'>,
    private readonly held: Pick<HeldFlags, 'require' | 'unknown'>,
    private readonly history: Pick<FlagHistory, 'versionOf'>,
  ) {}

  /** Creates a flag (version 1). Refuses a name in use, archived flags included. */
  create(input: FlagInput, actor: Actor, reason?: string, ctx: RequestContext = {}): Promise<FlagWrite> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    return this.commit.write({
      action: 'create',
      name,
      actor,
      reason,
      ctx,
      opts: {},
      propose: (cur) => {
        if (cur)
          throw new UserError(
            'CONFLICT',
            cur.archived
              ? `A flag named ${name} existed and is archived; names are not reused. Pick another name.`
              : `A flag named ${name} already exists.`,
            { key: slotOfFlag(name) },
            undefined,
            cur.archived ? undefined : { to: 'view-flag', name },
          );
        return { ...input, name };
      },
    });
  }

  /**
   * Changes a flag: `edit` returns the new definition from the current one (it may throw a
   * UserError to refuse). An archived flag can only be rolled back.
   */
  update(
    name: string,
    edit: (flag: FlagDefinition) => FlagInput,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: FlagWriteOptions = {},
  ): Promise<FlagWrite> {
    return this.commit.write({
      action: 'set',
      name,
      actor,
      reason,
      ctx,
      opts,
      propose: (cur) => edit(this.editable(name, cur)),
    });
  }

  /** Archives a flag (a version too): it is off everywhere and leaves /flag list. */
  archive(
    name: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: FlagWriteOptions = {},
  ): Promise<FlagWrite> {
    return this.commit.write({
      action: 'archive',
      name,
      actor,
      reason,
      ctx,
      opts,
      propose: (cur) => ({ ...this.editable(name, cur), archived: true, enabled: false }),
    });
  }

  /** Restores the definition of an earlier version, as a new version (archived flags included). */
  rollback(
    name: string,
    toVersion: number,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: FlagWriteOptions = {},
  ): Promise<FlagWrite> {
    let target: FlagDefinition | undefined;
    return this.commit.write({
      action: 'rollback',
      name,
      actor,
      reason,
      ctx,
      opts,
      propose: (cur, version) => {
        if (!cur) throw this.held.unknown(name);
        if (!target) throw new Error('rollback target not read');
        if (toVersion >= version)
          throw new UserError(
            'VERSION_NOT_FOUND',
            `${name} is at version ${version}; roll back to an earlier one (1 to ${version - 1}).`,
            { key: slotOfFlag(name) },
          );
        return target;
      },
      prepare: async () => {
        target = (await this.history.versionOf(name, toVersion)).flag;
      },
      restoredFrom: toVersion,
    });
  }

  /** What a rollback would change, without writing (for its confirmation). */
  async previewRollback(name: string, toVersion: number): Promise<FlagRollbackPreview> {
    const held = this.held.require(name);
    if (toVersion >= held.version)
      throw new UserError(
        'VERSION_NOT_FOUND',
        `${held.flag.name} is at version ${held.version}; roll back to an earlier one (1 to ${held.version - 1}).`,
        { key: slotOfFlag(held.flag.name) },
      );
    const target = await this.history.versionOf(held.flag.name, toVersion);
    const changes = flagChanges(held.flag, target.flag);
    if (!changes.length)
      throw new UserError(
        'UNCHANGED',
        `${held.flag.name} v${held.version} is the same as v${toVersion}. Nothing to roll back.`,
        { key: slotOfFlag(held.flag.name) },
      );
    return {
      name: held.flag.name,
      currentVersion: held.version,
      toVersion,
      from: held.flag,
      to: target.flag,
      changes,
    };
  }

  /**
   * The automatic kill: switches the flag off as the system, with `why` as the reason. Undefined
   * when it was off already (another process killed it first, or someone turned it off).
   */
  async kill(name: string, why: string): Promise<FlagWrite | undefined> {
    try {
      return await this.commit.write({
        action: 'kill',
        name,
        actor: SYSTEM_ACTOR,
        reason: why,
        ctx: {},
        opts: {},
        propose: (cur) => {
          const flag = this.editable(name, cur);
          if (!flag.enabled) throw new UserError('UNCHANGED', `${name} is off already.`);
          return { ...flag, enabled: false };
        },
      });
    } catch (err) {
      if (err instanceof UserError && err.code === 'UNCHANGED') return undefined;
      throw err;
    }
  }

  /** The current definition for an edit: refuses a missing or archived flag. */
  private editable(name: string, cur: FlagDefinition | undefined): FlagDefinition {
    if (!cur) throw this.held.unknown(name);
    if (cur.archived)
      throw new UserError(
        'INVALID_VALUE',
        `${name} is archived. Roll it back to a version before the archive to use it again.`,
        { key: slotOfFlag(name) },
        undefined,
        { to: 'flag-history', name },
      );
    return cur;
  }
}
