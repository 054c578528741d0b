import { DecryptError } from '../storage/codec.js';
import type { Actor, SystemConfigDoc } from '../storage/config-models.js';
import type { RegisteredKey } from '../config/registry.js';
import { GLOBAL, keyOfSlot, slotId, splitSlot, type Scope } from '../config/scopes.js';
import type { ConfigService } from '../config/service.js';
import type { RequestContext } from '../config/types.js';
import { UserError, isUserError } from '../base/errors.js';
import { preview } from '../base/text.js';
import {
  SnapshotStore,
  type SnapshotDoc,
  type SnapshotSummary,
  type SnapshotValue,
} from '../storage/snapshots.js';

export type { SnapshotDoc, SnapshotSummary } from '../storage/snapshots.js';

/** Lower-kebab-case, 2-64 characters: `before-migration`, `2026-q1`. */
const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_DESCRIPTION_LENGTH = 200;

/** What the audit log knows a snapshot by. */
export const snapshotKey = (name: string | null | undefined): string =>
  `snapshot:${name || '*'}`.slice(0, 64);

/** One slot's value, opened (decrypted) and tied to its registered key. */
export interface SlotValue {
  key: string;
  scope: Scope;
  def: RegisteredKey;
  version: number;
  /** The value in clear; undefined when `unreadable`. */
  value: unknown;
  /** Why the value cannot be read (it was encrypted with a key this bot no longer has). */
  unreadable?: string;
}

/** Slot values by slot id (`KEY` or `KEY|scope`), and how many recorded keys are no longer registered. */
export interface SlotSet {
  slots: Map<string, SlotValue>;
  unknownKeys: number;
}

/** Key order, then the global value first and overrides by scope: how snapshots list slots. */
export function bySlot(a: { key: string; scope: Scope }, b: { key: string; scope: Scope }): number {
  return (
    a.key.localeCompare(b.key) ||
    Number(a.scope !== GLOBAL) - Number(b.scope !== GLOBAL) ||
    a.scope.localeCompare(b.scope)
  );
}

/** Refuses a snapshot name that is not lower-kebab-case of 2-64 characters. */
export function checkName(name: string): string {
  const n = name.trim();
  if (n.length < 2 || n.length > 64 || !NAME.test(n))
    throw new UserError(
      'INVALID_VALUE',
      `"${preview(n)}" is not a snapshot name: use 2-64 lower-case letters, digits and single dashes, like before-migration.`,
      { key: snapshotKey(null) },
    );
  return n;
}

/**
 * Named, immutable snapshots of every value in every scope. Sensitive values are kept as the
 * configuration store keeps them (encrypted with CONFIG_ENCRYPTION_KEYS), and opened only to
 * compare or restore them.
 */
export class Snapshots {
  private readonly store: SnapshotStore;

  constructor(private readonly config: ConfigService) {
    this.store = new SnapshotStore(config.conn);
  }

  /**
   * Records the current value and version of every slot that holds one (global, every
   * environment and server override), read from the database. Audited as `snapshot-create`;
   * refused (CONFLICT) when the name is taken.
   */
  async create(
    input: string,
    description: string | null,
    actor: Actor,
    ctx: RequestContext = {},
  ): Promise<SnapshotSummary> {
    const row = { key: snapshotKey(input), action: 'snapshot-create' as const, actor, ...ctx };
    try {
      const name = checkName(input);
      if (name === 'now')
        throw new UserError(
          'INVALID_VALUE',
          'now cannot name a snapshot: /config snapshot diff against:now means the current values.',
          { key: snapshotKey(name) },
        );
      const text = description?.trim() || undefined;
      if (text && text.length > MAX_DESCRIPTION_LENGTH)
        throw new UserError(
          'TOO_LONG',
          `Description is too long (${text.length} characters); at most ${MAX_DESCRIPTION_LENGTH}.`,
        );
      const values = await this.capture();
      const doc: SnapshotDoc = {
        _id: name,
        ...(text ? { description: text } : {}),
        createdBy: actor,
        createdAt: new Date(),
        values,
      };
      const inserted = await this.config.health.guard('snapshot create', () => this.store.insert(doc));
      if (!inserted) {
        const existing = await this.store.get(name);
        throw new UserError(
          'CONFLICT',
          `A snapshot named ${name} exists already${existing ? ` (taken by ${existing.createdBy.tag} on ${existing.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)` : ''}: snapshots never change. Choose another name.`,
          { key: snapshotKey(name) },
        );
      }
      await this.config.audit.record({ ...row, status: 'success', newValue: { values: values.length } });
      const { values: _values, ...summary } = doc;
      return { ...summary, count: values.length };
    } catch (err) {
      await this.config.audit.record({
        ...row,
        status: 'failed',
        error: isUserError(err) ? err.message : 'internal error (logged)',
      });
      throw err;
    }
  }

  /** Snapshots newest first, without their values. */
  list(): Promise<SnapshotSummary[]> {
    return this.config.health.guard('snapshot list', () => this.store.list());
  }

  /** Snapshot names starting with what was typed (autocomplete). */
  names(prefix: string): Promise<string[]> {
    return this.config.health.guard('snapshot names', () => this.store.names(prefix.trim().toLowerCase()));
  }

  /** A snapshot by name; UNKNOWN_KEY when there is none. */
  async get(input: string): Promise<SnapshotDoc> {
    const name = checkName(input);
    const doc = await this.config.health.guard('snapshot read', () => this.store.get(name));
    if (!doc)
      throw new UserError(
        'UNKNOWN_KEY',
        `There is no snapshot named ${name}.`,
        { key: snapshotKey(name) },
        undefined,
        { to: 'list-snapshots' },
      );
    return doc;
  }

  /** A snapshot's values, opened; values of keys no longer registered are counted, not returned. */
  open(doc: SnapshotDoc): SlotSet {
    return this.slotSet(doc.values);
  }

  /**
   * Every slot holding a value now, read from the database; `versions` also has the version of
   * each override that was removed (a write there must expect it).
   */
  async now(): Promise<SlotSet & { versions: Map<string, number> }> {
    const docs = await this.config.currentDocuments();
    const versions = new Map(docs.map((d) => [d.key, d.version]));
    return { ...this.slotSet(this.held(docs), false), versions };
  }

  /** The current slots as a snapshot stores them: sealed when sensitive. */
  private async capture(): Promise<SnapshotValue[]> {
    return this.held(await this.config.currentDocuments()).map((v) => ({
      ...v,
      value: this.config.sealValue(slotId(v.key, v.scope), v.value),
    }));
  }

  /** The registered slots that hold a value, in clear, in key then scope order. */
  private held(docs: readonly SystemConfigDoc[]): SnapshotValue[] {
    return docs
      .filter((d) => !d.unset && this.config.isRegistered(keyOfSlot(d.key)))
      .map((d) => ({ ...splitSlot(d.key), version: d.version, value: d.value }))
      .sort(bySlot);
  }

  private slotSet(values: readonly SnapshotValue[], sealed = true): SlotSet {
    const slots = new Map<string, SlotValue>();
    let unknownKeys = 0;
    for (const v of values) {
      if (!this.config.isRegistered(v.key)) {
        unknownKeys++;
        continue;
      }
      const def = this.config.definition(v.key);
      const slot = slotId(def.key, v.scope);
      const base = { key: def.key, scope: v.scope, def, version: v.version };
      try {
        slots.set(slot, { ...base, value: sealed ? this.config.openValue(slot, v.value) : v.value });
      } catch (err) {
        if (!(err instanceof DecryptError)) throw err;
        slots.set(slot, { ...base, value: undefined, unreadable: err.message });
      }
    }
    return { slots, unknownKeys };
  }
}
