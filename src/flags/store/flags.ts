import { distance } from 'fastest-levenshtein';
import { isDuplicateKeyError } from '../../db/connection.js';
import { UserError } from '../../errors.js';
import { errorDetail, logger } from '../../logger.js';
import { preview } from '../../text.js';
import { SYSTEM_ACTOR, type Actor, type ConfigVersionDoc, type VersionAction } from '../../config/models.js';
import type { ConfigService } from '../../config/service.js';
import type { RequestContext } from '../../config/types.js';
import { checkReason } from '../../config/validate.js';
import type { Writable } from '../../config/writer.js';
import { ApprovalRequired } from '../../config/approval-gate.js';
import type { ChangeRequest } from '../../config/requests.js';
import { GLOBAL } from '../../config/scopes.js';
import { FlagSet } from '../evaluate.js';
import { FLAG_IMPACTS, FLAG_NAME, parseFlag, type FlagDefinition, type FlagInput } from '../model.js';
import { flagChanges } from './diff.js';
import { FlagErrors } from './kill.js';
import { FlagUsage } from './usage.js';
import {
  FLAG_SLOT_PREFIX,
  flagOfSlot,
  slotOfFlag,
  type FlagChange,
  type FlagRollbackPreview,
  type FlagVersion,
  type FlagWrite,
  type FlagWriteOptions,
  type StoredFlag,
} from './types.js';

export * from './types.js';

type Listener = (change: FlagChange) => void;

/** How a proposal is computed from the flag as it is now (undefined: no such flag yet). */
type Propose = (current: FlagDefinition | undefined, version: number) => FlagInput;

/**
 * Feature flags as versioned data. Each flag is the slot `flag:<name>` in the configuration's
 * collections, written by the same VersionWriter: every change is a version (append-only,
 * contiguous, compare-and-set, crash repair, an audit row, a change-log position that every
 * process follows). This class holds the flags in memory with a FlagSet to evaluate them, applies
 * versions made here or elsewhere (the change feed calls catchUp), and is the one write path:
 * create, edit, archive, rollback and the automatic kill. Refused attempts are audited as failed.
 */
export class FlagStore {
  private readonly flags = new Map<string, StoredFlag>();
  private readonly listeners = new Set<Listener>();
  private evaluator: FlagSet;
  private indexed = false;
  /** Evaluation counts of every process and application (per flag, per reason, hourly). */
  readonly usage: FlagUsage;
  /** Error reports and the automatic kill. */
  readonly errors: FlagErrors;

  constructor(private readonly config: ConfigService) {
    this.evaluator = new FlagSet([], { environment: config.environment });
    this.usage = new FlagUsage(config.conn);
    this.errors = new FlagErrors(config.conn, this);
    config.registerSlotOwner({
      owns: (slot) => flagOfSlot(slot) !== undefined,
      heldVersion: (slot) => this.heldVersion(slot),
      shown: (slot) => {
        const held = this.flags.get(flagOfSlot(slot) ?? '');
        return held ? `v${held.version}: ${stateText(held.flag)}` : '(no flag)';
      },
      apply: (change, request, approvers) => {
        const name = flagOfSlot(change.key) ?? '';
        return this.write(
          change.action,
          name,
          request.requester,
          request.reason,
          request.ctx ?? {},
          { expectedVersion: change.baseVersion, approval: { request: request.id, approvers } },
          () => change.value as FlagInput,
          undefined,
          change.restoredFrom,
        );
      },
    });
  }

  // ---- reads (memory) ----------------------------------------------------------------------

  /** The flags for evaluation in this process (its environment); replaced on every change. */
  get set(): FlagSet {
    return this.evaluator;
  }

  get(name: string): StoredFlag | undefined {
    return this.flags.get(name);
  }

  /** Every flag, by name; archived ones only when asked. */
  list(opts: { archived?: boolean } = {}): StoredFlag[] {
    return [...this.flags.values()]
      .filter((f) => opts.archived || !f.flag.archived)
      .sort((a, b) => a.flag.name.localeCompare(b.flag.name));
  }

  /** The flag named `input`, or a NOT FOUND error naming the nearest names. */
  require(input: string): StoredFlag {
    const name = input.trim().toLowerCase();
    const found = this.flags.get(name);
    if (found) return found;
    throw this.unknown(name, input);
  }

  /** Names matching what was typed (name first, then description), for autocomplete. */
  search(text: string, limit = 25, opts: { archived?: boolean } = {}): StoredFlag[] {
    const q = text.trim().toLowerCase();
    const all = this.list(opts);
    const byName = all.filter((f) => f.flag.name.includes(q));
    const byText = all.filter((f) => !byName.includes(f) && f.flag.description.toLowerCase().includes(q));
    return [...byName, ...byText].slice(0, limit);
  }

  /** Called with every flag version this process applies, from here or elsewhere. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  // ---- loading and following ---------------------------------------------------------------

  /** Reads every flag (at start, and when the change feed had to reload). */
  async load(): Promise<void> {
    if (!this.indexed) {
      await Promise.all([this.usage.ensureIndexes(), this.errors.ensureIndexes()]);
      this.indexed = true;
    }
    const docs = await this.config.slots.withPrefix(FLAG_SLOT_PREFIX);
    for (const doc of docs) {
      const name = flagOfSlot(doc.key);
      if (!name || doc.unset) continue;
      const held = this.flags.get(name);
      if (held && held.version >= doc.version) continue;
      const flag = this.checked(name, doc.value, doc.version);
      if (flag)
        this.flags.set(name, {
          flag,
          version: doc.version,
          updatedAt: doc.updatedAt,
          updatedBy: doc.updatedBy,
        });
    }
    this.rebuild();
    logger.info(`Feature flags loaded: ${this.flags.size}`);
  }

  /** Whether a change-log slot is a flag (the change feed asks). */
  owns(slot: string): boolean {
    return flagOfSlot(slot) !== undefined;
  }

  /** Applies, oldest first, every version of a flag newer than this process holds. */
  async catchUp(slot: string): Promise<number> {
    const name = flagOfSlot(slot);
    if (!name) return 0;
    const newer = await this.config.slots.versionsAfter(slot, this.flags.get(name)?.version ?? 0);
    for (const v of newer) this.apply(name, v);
    return newer.length;
  }

  /** The version this process holds of a flag, by name or slot (0 when none). */
  heldVersion(nameOrSlot: string): number {
    return this.flags.get(flagOfSlot(nameOrSlot) ?? nameOrSlot)?.version ?? 0;
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Creates a flag (version 1). Refuses a name in use, archived flags included. */
  create(input: FlagInput, actor: Actor, reason?: string, ctx: RequestContext = {}): Promise<FlagWrite> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    return this.write('create', name, actor, reason, ctx, {}, (cur) => {
      if (cur)
        throw new UserError(
          'CONFLICT',
          cur.archived
            ? `A flag named ${name} existed and is archived; names are not reused. Pick another name.`
            : `A flag named ${name} already exists (/flag view ${name}).`,
          { key: slotOfFlag(name) },
        );
      return { ...input, name };
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
    return this.write('set', name, actor, reason, ctx, opts, (cur) => edit(this.editable(name, cur)));
  }

  /** Archives a flag (a version too): it is off everywhere and leaves /flag list. */
  archive(
    name: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: FlagWriteOptions = {},
  ): Promise<FlagWrite> {
    return this.write('archive', name, actor, reason, ctx, opts, (cur) => ({
      ...this.editable(name, cur),
      archived: true,
      enabled: false,
    }));
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
    return this.write(
      'rollback',
      name,
      actor,
      reason,
      ctx,
      opts,
      (cur, version) => {
        if (!cur) throw this.unknown(name);
        if (!target) throw new Error('rollback target not read');
        if (toVersion >= version)
          throw new UserError(
            'VERSION_NOT_FOUND',
            `${name} is at version ${version}; roll back to an earlier one (1 to ${version - 1}).`,
            { key: slotOfFlag(name) },
          );
        return target;
      },
      async () => {
        target = (await this.versionOf(name, toVersion)).flag;
      },
      toVersion,
    );
  }

  /** What a rollback would change, without writing (for its confirmation). */
  async previewRollback(name: string, toVersion: number): Promise<FlagRollbackPreview> {
    const held = this.require(name);
    if (toVersion >= held.version)
      throw new UserError(
        'VERSION_NOT_FOUND',
        `${held.flag.name} is at version ${held.version}; roll back to an earlier one (1 to ${held.version - 1}).`,
        { key: slotOfFlag(held.flag.name) },
      );
    const target = await this.versionOf(held.flag.name, toVersion);
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
      return await this.write('kill', name, SYSTEM_ACTOR, why, {}, {}, (cur) => {
        const flag = this.editable(name, cur);
        if (!flag.enabled) throw new UserError('UNCHANGED', `${name} is off already.`);
        return { ...flag, enabled: false };
      });
    } catch (err) {
      if (err instanceof UserError && err.code === 'UNCHANGED') return undefined;
      throw err;
    }
  }

  // ---- history -----------------------------------------------------------------------------

  /** Versions of a flag, newest first, each with what it changed. */
  async history(input: string, opts: { limit?: number; before?: number } = {}): Promise<FlagVersion[]> {
    const name = this.require(input).flag.name;
    const limit = Math.min(Math.max(opts.limit ?? 10, 1), 100);
    // One more than shown, to say what the oldest shown version changed.
    const rows = await this.config.slots.history(slotOfFlag(name), limit + 1, {
      ...(opts.before !== undefined ? { before: opts.before } : {}),
    });
    const versions = rows.map((r) => this.versionRow(name, r));
    return versions.slice(0, limit).map((v, i) => ({
      ...v,
      changes: flagChanges(versions[i + 1]?.flag ?? (v.version === 1 ? undefined : v.flag), v.flag),
    }));
  }

  /** One stored version of a flag. */
  async versionOf(input: string, version: number): Promise<FlagVersion> {
    const name = this.require(input).flag.name;
    const doc = await this.config.slots.version(slotOfFlag(name), version);
    if (!doc)
      throw new UserError(
        'VERSION_NOT_FOUND',
        `${name} has no version ${version} (it is at version ${this.heldVersion(name)}).`,
        { key: slotOfFlag(name) },
      );
    return this.versionRow(name, doc);
  }

  // ---- internals ---------------------------------------------------------------------------

  /**
   * The one write path. `propose` computes the next definition from fresh state on each attempt
   * of the compare-and-set; what it returns is validated as a whole (every problem listed).
   */
  private async write(
    action: VersionAction,
    name: string,
    actor: Actor,
    rawReason: string | undefined,
    ctx: RequestContext,
    opts: FlagWriteOptions,
    propose: Propose,
    prepare?: () => Promise<void>,
    restoredFrom?: number,
  ): Promise<FlagWrite> {
    const slot = slotOfFlag(name.slice(0, 64));
    let reason: string | undefined;
    let before: FlagDefinition | undefined;
    let proposed: FlagDefinition | undefined;
    try {
      reason = checkReason(rawReason);
      if (!FLAG_NAME.test(name)) {
        if (action !== 'create') throw this.unknown(name);
        throw new UserError(
          'INVALID_KEY',
          `${preview(name)} is not a flag name: use lower-kebab-case, a letter then 1 to 63 letters, digits or dashes (new-checkout).`,
          { key: slot },
        );
      }
      await prepare?.();
      /** The next definition from a current state, validated as a whole. */
      const next = (cur: { unset?: boolean; value: unknown; version: number }): FlagDefinition => {
        if (opts.expectedVersion !== undefined && cur.version !== opts.expectedVersion)
          throw new UserError(
            'CONFLICT',
            `${name} changed since this preview (v${opts.expectedVersion} → v${cur.version}); nothing was changed. Run the command again to see what it would do now.`,
            { key: slot },
          );
        before = cur.unset ? undefined : this.checked(name, cur.value, cur.version);
        const parsed = parseFlag(propose(before, cur.version));
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
        const held = this.flags.get(name);
        const planned = next(
          held ? { value: held.flag, version: held.version } : { unset: true, value: null, version: 0 },
        );
        const needed = Math.max(this.approvalsFor(held?.flag.impact), this.approvalsFor(planned.impact));
        if (needed > 0) {
          const request = await this.request(
            action,
            name,
            held,
            planned,
            needed,
            actor,
            reason,
            ctx,
            restoredFrom,
          );
          throw new ApprovalRequired(request);
        }
      }
      const outcome = await this.config.slots.commit(
        this.writable(name),
        action,
        actor,
        reason,
        ctx,
        (cur) => {
          const parsed = { flag: next(cur) };
          proposed = parsed.flag;
          return {
            value: parsed.flag,
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
      this.apply(name, outcome.version);
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

  private approvalsFor(level: FlagDefinition['impact'] | undefined): number {
    return level ? (this.config.approvals[level] ?? 0) : 0;
  }

  /** Stores a flag change that needs approvals as a change request, against the version held now. */
  private request(
    action: VersionAction,
    name: string,
    held: StoredFlag | undefined,
    planned: FlagDefinition,
    needed: number,
    actor: Actor,
    reason: string | undefined,
    ctx: RequestContext,
    restoredFrom: number | undefined,
  ): Promise<ChangeRequest> {
    const changes = flagChanges(held?.flag, planned);
    if (held && !changes.length)
      throw new UserError(
        'UNCHANGED',
        `${name} is already like that (version ${held.version}). Nothing was changed.`,
        {
          key: slotOfFlag(name),
        },
      );
    const level = [held?.flag.impact ?? 'none', planned.impact].sort(
      (a, b) => FLAG_IMPACTS.indexOf(b) - FLAG_IMPACTS.indexOf(a),
    )[0] as FlagDefinition['impact'];
    return this.config.requests.create({
      kind: action === 'rollback' ? 'rollback' : 'set',
      requester: actor,
      ...(reason ? { reason } : {}),
      level,
      required: needed,
      changes: [
        {
          key: slotOfFlag(name),
          scope: GLOBAL,
          action,
          value: planned,
          ...(restoredFrom !== undefined ? { restoredFrom } : {}),
          baseVersion: held?.version ?? 0,
          before: held ? `v${held.version}: ${stateText(held.flag)}` : '(no flag)',
          after: changes.join('; '),
        },
      ],
      preview: [
        held
          ? `Rollback plan: /flag rollback name:${name} version:${held.version}`
          : `Rollback plan: /flag archive name:${name}`,
      ],
      ttlMs: this.config.approvalTtlMs,
      ctx,
    });
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

  /** The current definition for an edit: refuses a missing or archived flag. */
  private editable(name: string, cur: FlagDefinition | undefined): FlagDefinition {
    if (!cur) throw this.unknown(name);
    if (cur.archived)
      throw new UserError(
        'INVALID_VALUE',
        `${name} is archived. Roll it back to a version before the archive to use it again (/flag history ${name}).`,
        { key: slotOfFlag(name) },
      );
    return cur;
  }

  /** No such flag, with the nearest names; `typed` is the name as the user wrote it. */
  private unknown(name: string, typed = name): UserError {
    const near = this.nearest(name);
    return new UserError(
      'UNKNOWN_KEY',
      `No flag is named ${preview(typed)}.${near.length ? ` Did you mean ${near.join(', ')}?` : ' /flag list shows them.'}`,
      { key: slotOfFlag(preview(name)) },
    );
  }

  private nearest(name: string): string[] {
    return [...this.flags.keys()]
      .map((k) => ({ k, d: k.includes(name) || name.includes(k) ? 0 : distance(k, name) }))
      .filter((x) => x.d <= Math.max(2, Math.floor(name.length / 3)))
      .sort((a, b) => a.d - b.d)
      .slice(0, 3)
      .map((x) => x.k);
  }

  /** What the writer needs: flags compare by their canonical JSON and have no default to seed. */
  private writable(name: string): Writable {
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

  /** A stored definition as a flag; an invalid one (written by another release) is skipped, logged. */
  private checked(name: string, value: unknown, version: number): FlagDefinition | undefined {
    const r = parseFlag(value);
    if (r.ok) return r.flag;
    logger.warn(
      `Flag ${name} v${version} is not valid for this release and is left out: ${r.errors.join('; ')}`,
    );
    return undefined;
  }

  private versionRow(
    name: string,
    doc: ConfigVersionDoc,
  ): Omit<FlagVersion, 'changes'> & { changes: string[] } {
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

  /** Holds a version newer than the one held, rebuilds the evaluator, and tells listeners. */
  private apply(name: string, doc: ConfigVersionDoc): void {
    const held = this.flags.get(name);
    if (held && held.version >= doc.version) return;
    const flag = this.checked(name, doc.value, doc.version);
    if (!flag) return;
    this.flags.set(name, { flag, version: doc.version, updatedAt: doc.createdAt, updatedBy: doc.actor });
    this.rebuild();
    const change: FlagChange = {
      name,
      version: doc.version,
      action: doc.action,
      actor: doc.actor,
      ...(doc.reason ? { reason: doc.reason } : {}),
      flag,
      ...(held ? { previous: held.flag } : {}),
    };
    for (const fn of [...this.listeners]) {
      try {
        fn(change);
      } catch (err) {
        logger.error(`A flag listener failed on ${name} v${doc.version}`, errorDetail(err));
      }
    }
  }

  private rebuild(): void {
    this.evaluator = this.evaluator.with([...this.flags.values()].map((f) => f.flag));
  }
}

/** A flag's state in a few words, for change requests: `on in production · 25%`. */
function stateText(f: FlagDefinition): string {
  if (f.archived) return 'archived';
  if (!f.enabled) return 'off';
  return `on in ${f.environments.join(', ') || 'no environment'} · ${f.rollout}%`;
}
