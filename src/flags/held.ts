import { distance } from 'fastest-levenshtein';
import { UserError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import type { ConfigVersionDoc } from '../storage/config-models.js';
import { preview } from '../base/text.js';
import { FlagSet, parseFlag, type FlagDefinition } from '@config-bot/client/flags';
import {
  FLAG_SLOT_PREFIX,
  flagOfSlot,
  slotOfFlag,
  type FlagChange,
  type FlagConfig,
  type StoredFlag,
} from './types.js';

type Listener = (change: FlagChange) => void;

/** A stored definition as a flag; an invalid one (written by another release) is skipped, logged. */
export function readFlag(name: string, value: unknown, version: number): FlagDefinition | undefined {
  const r = parseFlag(value);
  if (r.ok) return r.flag;
  logger.warn(
    `Flag ${name} v${version} is not valid for this release and is left out: ${r.errors.join('; ')}`,
  );
  return undefined;
}

/**
 * The flags this process holds, in memory, with a FlagSet to evaluate them: read at start, then
 * each version applied as it comes (made here, or elsewhere and caught up through the change
 * feed), and listeners told. Lookups never touch the database.
 */
export class HeldFlags {
  private readonly flags = new Map<string, StoredFlag>();
  private readonly listeners = new Set<Listener>();
  private evaluator: FlagSet;

  constructor(
    private readonly slots: Pick<FlagConfig['slots'], 'withPrefix' | 'versionsAfter'>,
    environment: string,
  ) {
    this.evaluator = new FlagSet([], { environment });
  }

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

  /** Reads every flag (at start, and when the change feed had to reload). */
  async load(): Promise<void> {
    const docs = await this.slots.withPrefix(FLAG_SLOT_PREFIX);
    for (const doc of docs) {
      const name = flagOfSlot(doc.key);
      if (!name || doc.unset) continue;
      const held = this.flags.get(name);
      if (held && held.version >= doc.version) continue;
      const flag = readFlag(name, doc.value, doc.version);
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
    const newer = await this.slots.versionsAfter(slot, this.flags.get(name)?.version ?? 0);
    for (const v of newer) this.apply(name, v);
    return newer.length;
  }

  /**
   * Applies a flag version given in full (another process's commit, carried by the change log's
   * tail) when it is the next one held; false when one before it is missing (catchUp reads them).
   */
  applyNext(doc: ConfigVersionDoc): boolean {
    const name = flagOfSlot(doc.key);
    if (!name) return true;
    const held = this.flags.get(name)?.version ?? 0;
    if (held >= doc.version) return true;
    if (held !== doc.version - 1) return false;
    this.apply(name, doc);
    return true;
  }

  /** The version this process holds of a flag, by name or slot (0 when none). */
  heldVersion(nameOrSlot: string): number {
    return this.flags.get(flagOfSlot(nameOrSlot) ?? nameOrSlot)?.version ?? 0;
  }

  /** Holds a version newer than the one held, rebuilds the evaluator, and tells listeners. */
  apply(name: string, doc: ConfigVersionDoc): void {
    const held = this.flags.get(name);
    if (held && held.version >= doc.version) return;
    const flag = readFlag(name, doc.value, doc.version);
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

  /** No such flag, with the nearest names; `typed` is the name as the user wrote it. */
  unknown(name: string, typed = name): UserError {
    const near = this.nearest(name);
    return new UserError(
      'UNKNOWN_KEY',
      `No flag is named ${preview(typed)}.${near.length ? ` Did you mean ${near.join(', ')}?` : ''}`,
      { key: slotOfFlag(preview(name)) },
      undefined,
      near.length ? undefined : { to: 'list-flags' },
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

  private rebuild(): void {
    this.evaluator = this.evaluator.with([...this.flags.values()].map((f) => f.flag));
  }
}
