import type { ConfigStore } from '../storage/config-store.js';
import type { Actor } from '../storage/config-models.js';
import type { LiveValues } from './live-values.js';
import { defaultOf, parseTyped, previewOf, rollbackTarget, type Checked } from './proposals.js';
import type { ConfigReader } from './reader.js';
import type { Refusals } from './refusals.js';
import type { RegisteredKey, Registry } from './registry.js';
import { parentOf, type Resolution } from './resolution.js';
import type { RuleCheck } from './rule-check.js';
import { GLOBAL, slotId, type Scope } from './scopes.js';
import type { Preview, RequestContext, WriteOptions } from './types.js';
import type { DatabaseHealth } from '../storage/health.js';

const READ_UNAVAILABLE = 'Database unavailable; try again in a moment.';

/**
 * What a set, rollback or reset would change, without writing: the confirmation step and the
 * impact preview show it. A preview refused (no such version, already that value, a rule) is an
 * attempt too: it is audited.
 */
export class ConfigPreviews {
  constructor(
    private readonly p: {
      registry: Registry;
      values: LiveValues;
      resolution: Resolution;
      reader: ConfigReader;
      rules: RuleCheck;
      refusals: Refusals;
      store: ConfigStore;
      health: DatabaseHealth;
      environment: string;
      encrypts: boolean;
    },
  ) {}

  /**
   * What a rollback would change, without writing (the confirmation step shows it). A refusal
   * (no such version, already that value, not allowed any more) is an attempt too: it is audited.
   */
  async previewRollback(
    input: string,
    toVersion: number,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: Pick<WriteOptions, 'scope'> = {},
  ): Promise<Preview> {
    return this.p.refusals.audited('rollback', input, actor, reason, ctx, opts, async (def, scope) => {
      const target = await this.p.health.guard(
        'read',
        () => this.rollbackTarget(def, scope, toVersion),
        READ_UNAVAILABLE,
      );
      const preview = previewOf(def, 'rollback', this.p.reader.current(def, scope), target, toVersion, scope);
      this.p.rules.check(def, scope, target.value);
      return preview;
    });
  }

  /** What a reset would change, without writing; a refusal (already the default) is audited. */
  /**
   * What a set would change, without writing (dry runs and the impact preview): the value parsed
   * and checked by the same rules, refusals audited like the set itself.
   */
  async previewSet(
    input: string,
    value: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: Pick<WriteOptions, 'scope'> = {},
  ): Promise<Preview> {
    return this.p.refusals.audited('set', input, actor, reason, ctx, opts, (def, scope) => {
      const parsed = parseTyped(def, scope, value);
      const preview = previewOf(def, 'set', this.p.reader.current(def, scope), parsed, undefined, scope);
      this.p.resolution.checkMerged(def, scope, parsed.value);
      this.p.rules.check(def, scope, this.p.resolution.merged(def, scope, parsed.value));
      return preview;
    });
  }

  async previewReset(
    input: string,
    actor: Actor,
    reason?: string,
    ctx: RequestContext = {},
    opts: Pick<WriteOptions, 'scope'> = {},
  ): Promise<Preview> {
    return this.p.refusals.audited('reset', input, actor, reason, ctx, opts, (def, scope) => {
      if (scope === GLOBAL) {
        const preview = previewOf(def, 'reset', this.p.reader.current(def, scope), defaultOf(def));
        this.p.rules.check(def, scope, def.default);
        return preview;
      }
      // Removing an override: what the key would inherit from the layer below.
      const inherited = this.p.resolution.at(def.key, parentOf(scope, this.p.environment));
      const preview = previewOf(
        def,
        'unset',
        this.p.reader.current(def, scope),
        { value: inherited, warnings: [] },
        undefined,
        scope,
      );
      this.p.rules.check(def, scope, inherited);
      return preview;
    });
  }

  rollbackTarget(def: RegisteredKey, scope: Scope, toVersion: number): Promise<Checked> {
    const slot = slotId(def.key, scope);
    return rollbackTarget(
      this.p.store,
      def,
      slot,
      toVersion,
      this.p.values.peek(slot)?.version,
      this.p.encrypts,
    );
  }
}
