import { UserError } from '../base/errors.js';
import { errorDetail } from '../base/logger.js';
import type { Actor, VersionAction } from '../storage/config-models.js';
import { isDuplicateKeyError } from '../storage/insert-once.js';
import { ApprovalRequired } from '../approvals/gate.js';
import type { RequestContext } from '../config/types.js';
import { checkReason } from '../config/validate.js';
import type { Writable } from '../config/writer.js';
import { preview } from '../base/text.js';
import { FLAG_NAME, parseFlag, type FlagDefinition, type FlagInput } from '@config-bot/client/flags';
import { approvalsNeeded, requestFlagChange } from './approval.js';
import { flagChanges } from './diff.js';
import { readFlag, type HeldFlags } from './held.js';
import { slotOfFlag, type FlagConfig, type FlagWrite, type FlagWriteOptions } from './types.js';

/** How a proposal is computed from the flag as it is now (undefined: no such flag yet). */
export type Propose = (current: FlagDefinition | undefined, version: number) => FlagInput;

/** One attempt to write a flag. */
export interface FlagAttempt {
  action: VersionAction;
  name: string;
  actor: Actor;
  /** As given: checked here, so a bad one is refused and audited like any refusal. */
  reason: string | undefined;
  ctx: RequestContext;
  opts: FlagWriteOptions;
  propose: Propose;
  /** Reads what `propose` needs before the first attempt (a rollback's target). */
  prepare?: () => Promise<void>;
  restoredFrom?: number;
}

/** What the write path uses of the configuration core. */
export type CommitConfig = Pick<
  FlagConfig,
  'slots' | 'approvals' | 'approvalTtlMs' | 'requests' | 'audit' | 'health' | 'refusals'
>;

/**
 * The one write path of flags. Each flag is the slot `flag:<name>`, written by the configuration's
 * VersionWriter (compare-and-set versions, crash repair, an audit row, a change-log position).
 * A flag whose impact needs approvals becomes a change request instead; a refused attempt is
 * audited as failed and counted.
 */
export class FlagCommit {
  constructor(
    private readonly config: CommitConfig,
    private readonly held: Pick<HeldFlags, 'get' | 'apply' | 'unknown'>,
  ) {}

  /**
   * Writes the next version. `propose` computes the next definition from fresh state on each
   * attempt of the compare-and-set; what it returns is validated as a whole (every problem listed).
   */
  async write(a: FlagAttempt): Promise<FlagWrite> {
    const { action, name, actor, ctx, opts, restoredFrom } = a;
    const slot = slotOfFlag(name.slice(0, 64));
    let reason: string | undefined;
    let before: FlagDefinition | undefined;
    let proposed: FlagDefinition | undefined;
    try {
      reason = checkReason(a.reason);
      if (!FLAG_NAME.test(name)) {
        if (action !== 'create') throw this.held.unknown(name);
        throw new UserError(
          'INVALID_KEY',
          `${preview(name)} is not a flag name: use lower-kebab-case, a letter then 1 to 63 letters, digits or dashes (new-checkout).`,
          { key: slot },
        );
      }
      await a.prepare?.();
      /** The next definition from a current state, validated as a whole. */
      const next = (cur: { unset?: boolean; value: unknown; version: number }): FlagDefinition => {
        if (opts.expectedVersion !== undefined && cur.version !== opts.expectedVersion)
          throw new UserError(
            'CONFLICT',
            `${name} changed since this preview (v${opts.expectedVersion} → v${cur.version}); nothing was changed. Run the command again to see what it would do now.`,
            { key: slot },
          );
        before = cur.unset ? undefined : readFlag(name, cur.value, cur.version);
        const parsed = parseFlag(a.propose(before, cur.version));
        if (!parsed.ok)
          throw new UserError(
            'INVALID_VALUE',
            `${name} was not changed:\n${parsed.errors.map((e) => `• ${e}`).join('\n')}`,
            { key: slot },
          );
        if (parsed.flag.name !== name)
          throw new UserError('INVALID_VALUE', `A flag cannot be renamed (${name} → ${parsed.flag.name}).`, {
            key: slot,
          });
        return parsed.flag;
      };
      // A flag whose impact needs approvals changes through a change request (the automatic kill
      // never waits: switching off is the safe direction).
      if (action !== 'kill' && !opts.approval) {
        const held = this.held.get(name);
        const planned = next(
          held ? { value: held.flag, version: held.version } : { unset: true, value: null, version: 0 },
        );
        const needed = approvalsNeeded(this.config.approvals, held?.flag, planned);
        if (needed > 0)
          throw new ApprovalRequired(
            await requestFlagChange(this.config, {
              action,
              name,
              held,
              planned,
              needed,
              actor,
              reason,
              ctx,
              restoredFrom,
            }),
          );
      }
      const outcome = await this.config.slots.commit(
        writable(name),
        action,
        actor,
        reason,
        ctx,
        (cur) => {
          proposed = next(cur);
          return {
            value: proposed,
            warnings: [],
            ...(restoredFrom !== undefined ? { restoredFrom } : {}),
          };
        },
        opts.approval ?? {},
      );
      if (outcome.status === 'unchanged')
        throw new UserError(
          'UNCHANGED',
          restoredFrom !== undefined
            ? `${name} is already as it was at version ${restoredFrom}. Nothing was changed.`
            : `${name} is already like that (version ${outcome.current.version}). Nothing was changed.`,
          { key: slot },
        );
      this.held.apply(name, outcome.version);
      const flag = proposed ?? (outcome.version.value as FlagDefinition);
      return {
        name,
        action,
        version: outcome.version.version,
        oldVersion: outcome.previous.version,
        flag,
        ...(before ? { previous: before } : {}),
        changes: flagChanges(before, flag),
        ...(restoredFrom !== undefined ? { restoredFrom } : {}),
        ...(outcome.seq !== undefined ? { seq: outcome.seq } : {}),
        at: outcome.version.createdAt,
      };
    } catch (err) {
      // Not a refusal: the change became a request (its creation is audited there).
      if (err instanceof ApprovalRequired) throw err;
      return this.refused(err, action, {
        key: slot,
        actor,
        ...(reason ? { reason } : {}),
        ...(before ? { oldValue: before } : {}),
        ...(proposed ? { newValue: proposed } : {}),
        ...ctx,
      });
    }
  }

  /** Audits a refused attempt as failed and throws what the user should see. */
  private async refused(
    err: unknown,
    action: VersionAction,
    row: { key: string; actor: Actor } & Record<string, unknown>,
  ): Promise<never> {
    let error: UserError | undefined;
    if (err instanceof UserError) error = err;
    else error = this.config.health.asUnavailable(action, err);
    if (!error && isDuplicateKeyError(err))
      error = new UserError('CONFLICT', `${row.key} was changed concurrently by someone else; try again.`);
    const reason = `flag-${action}:${error?.code ?? 'INTERNAL'}`;
    this.config.refusals.set(reason, (this.config.refusals.get(reason) ?? 0) + 1);
    const audit = this.config.audit.record({
      ...row,
      action,
      status: 'failed',
      error: error ? error.message : `internal error: ${errorDetail(err).error as string}`,
    });
    // With the database unreachable the row is queued: answer first.
    if (error?.code !== 'UNAVAILABLE') await audit;
    throw error ?? err;
  }
}

/** What the writer needs: flags compare by their canonical JSON and have no default to seed. */
function writable(name: string): Writable {
  return {
    key: slotOfFlag(name),
    default: null,
    createdByFirstWrite: true,
    // A parsed flag has one key order (the schema's), so equal flags have equal JSON.
    format: (v: unknown) => {
      const r = parseFlag(v);
      return JSON.stringify(r.ok ? r.flag : v);
    },
  };
}
