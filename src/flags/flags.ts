import { FlagErrorRecords } from '../storage/flag-errors.js';
import { FlagUsageRecords } from '../storage/flag-usage.js';
import type { FlagInput, FlagSet } from '@config-bot/client/flags';
import { FlagCommit } from './commit.js';
import { stateText } from './diff.js';
import { HeldFlags } from './held.js';
import { FlagHistory } from './history.js';
import { FlagErrors } from './kill.js';
import { FlagUsage } from './usage.js';
import { FlagWrites } from './writes.js';
import { flagOfSlot, type FlagConfig } from './types.js';

export * from './types.js';

/**
 * Feature flags as versioned data, one per process: each flag is the slot `flag:<name>` in the
 * configuration's collections, so every change is a version that every process follows. Made of
 * the flags held in memory and evaluated (HeldFlags), the write path (FlagWrites over FlagCommit),
 * the stored versions (FlagHistory), evaluation counts (FlagUsage) and error reports with the
 * automatic kill (FlagErrors). Callers use this one object.
 */
export class FlagStore {
  /** Evaluation counts of every process and application (per flag, per reason, hourly). */
  readonly usage: FlagUsage;
  /** Error reports and the automatic kill. */
  readonly errors: FlagErrors;

  readonly get: HeldFlags['get'];
  readonly list: HeldFlags['list'];
  readonly require: HeldFlags['require'];
  readonly search: HeldFlags['search'];
  readonly subscribe: HeldFlags['subscribe'];
  readonly owns: HeldFlags['owns'];
  readonly catchUp: HeldFlags['catchUp'];
  readonly applyNext: HeldFlags['applyNext'];
  readonly heldVersion: HeldFlags['heldVersion'];

  readonly create: FlagWrites['create'];
  readonly update: FlagWrites['update'];
  readonly archive: FlagWrites['archive'];
  readonly rollback: FlagWrites['rollback'];
  readonly previewRollback: FlagWrites['previewRollback'];
  readonly kill: FlagWrites['kill'];

  readonly history: FlagHistory['history'];
  readonly versionOf: FlagHistory['versionOf'];

  private readonly held: HeldFlags;
  private indexed = false;

  constructor(config: FlagConfig) {
    const held = new HeldFlags(config.slots, config.environment);
    const history = new FlagHistory(config.slots, held);
    const commit = new FlagCommit(config, held);
    const writes = new FlagWrites(commit, held, history);
    this.held = held;
    this.usage = new FlagUsage(new FlagUsageRecords(config.conn));
    this.errors = new FlagErrors(new FlagErrorRecords(config.conn), {
      require: (name) => held.require(name),
      kill: (name, why) => writes.kill(name, why),
    });

    this.get = held.get.bind(held);
    this.list = held.list.bind(held);
    this.require = held.require.bind(held);
    this.search = held.search.bind(held);
    this.subscribe = held.subscribe.bind(held);
    this.owns = held.owns.bind(held);
    this.catchUp = held.catchUp.bind(held);
    this.applyNext = held.applyNext.bind(held);
    this.heldVersion = held.heldVersion.bind(held);
    this.create = writes.create.bind(writes);
    this.update = writes.update.bind(writes);
    this.archive = writes.archive.bind(writes);
    this.rollback = writes.rollback.bind(writes);
    this.previewRollback = writes.previewRollback.bind(writes);
    this.kill = writes.kill.bind(writes);
    this.history = history.history.bind(history);
    this.versionOf = history.versionOf.bind(history);

    // An approved change request on a flag slot comes back here to be written.
    config.registerSlotOwner({
      owns: (slot) => flagOfSlot(slot) !== undefined,
      heldVersion: (slot) => held.heldVersion(slot),
      shown: (slot) => {
        const cur = held.get(flagOfSlot(slot) ?? '');
        return cur ? `v${cur.version}: ${stateText(cur.flag)}` : '(no flag)';
      },
      apply: (change, request, approvers) =>
        commit.write({
          action: change.action,
          name: flagOfSlot(change.key) ?? '',
          actor: request.requester,
          reason: request.reason,
          ctx: request.ctx ?? {},
          opts: { expectedVersion: change.baseVersion, approval: { request: request.id, approvers } },
          propose: () => change.value as FlagInput,
          ...(change.restoredFrom !== undefined ? { restoredFrom: change.restoredFrom } : {}),
        }),
    });
  }

  /** The flags for evaluation in this process (its environment); replaced on every change. */
  get set(): FlagSet {
    return this.held.set;
  }

  /** Reads every flag (at start, and when the change feed had to reload). */
  async load(): Promise<void> {
    if (!this.indexed) {
      await Promise.all([this.usage.ensureIndexes(), this.errors.ensureIndexes()]);
      this.indexed = true;
    }
    await this.held.load();
  }
}
