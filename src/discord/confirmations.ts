import { randomBytes } from 'node:crypto';
import { errorDetail, logger } from '../logger.js';

/** The command whose Confirm and Cancel buttons carry a pending action's id. */
export type PendingCommand = 'config' | 'flag';

export interface PendingAction {
  userId: string;
  /** Default `config`. Only that command's buttons can confirm it (see peek). */
  command?: PendingCommand;
  /**
   * What it is audited as: /config `rollback` or `reset`; /flag `set` (switching off in
   * production), `rollback` or `archive`.
   */
  action: 'rollback' | 'reset' | 'set' | 'archive';
  /** The slot: a setting's key, or `flag:<name>`. */
  key: string;
  /** Where: `global`, `env:<name>` or `guild:<id>` (flags: `global`). */
  scope: string;
  toVersion?: number;
  reason?: string;
  /** The version the preview was computed from: confirming after someone else changed it is refused. */
  expectedVersion: number;
  /** A flag switched off: the environment removed from its list; absent for the kill switch. */
  environment?: string;
}

interface Entry<T> {
  value: T;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Things waiting for their Confirm button (a rollback, a restore, an import...). Each expires
 * after `timeoutMs`, and the expiry callback edits the prompt so the admin sees that it expired.
 * A button works once (`take`).
 */
export class PendingStore<T> {
  private readonly pending = new Map<string, Entry<T>>();

  constructor(readonly timeoutMs: number) {}

  create(value: T, onExpire: () => Promise<void>): string {
    const id = randomBytes(6).toString('hex');
    const timer = setTimeout(() => {
      if (!this.pending.delete(id)) return;
      onExpire().catch((err: unknown) =>
        logger.warn('Could not mark a confirmation as expired', errorDetail(err)),
      );
    }, this.timeoutMs);
    timer.unref();
    this.pending.set(id, { value, expiresAt: Date.now() + this.timeoutMs, timer });
    return id;
  }

  /** The value behind an id, when it has not expired and `accept` takes it. */
  peek(id: string, accept: (value: T) => boolean = () => true): T | undefined {
    const p = this.pending.get(id);
    return p && p.expiresAt > Date.now() && accept(p.value) ? p.value : undefined;
  }

  /** Removes and returns a pending value (a button works once). */
  take(id: string, accept?: (value: T) => boolean): T | undefined {
    const value = this.peek(id, accept);
    if (value === undefined) return undefined;
    clearTimeout(this.pending.get(id)?.timer);
    this.pending.delete(id);
    return value;
  }

  /** Drops everything and its timers (shutdown). */
  clear(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}

/** Rollbacks, resets and risky flag changes waiting for their Confirm button. */
export class Confirmations extends PendingStore<PendingAction> {
  /**
   * The pending action behind an id, when it has not expired and belongs to `command` (default
   * `config`): a /flag confirmation cannot be carried out by a /config button, nor the reverse.
   */
  peekFor(id: string, command: PendingCommand = 'config'): PendingAction | undefined {
    return this.peek(id, (p) => (p.command ?? 'config') === command);
  }

  /** Removes and returns a pending action of `command` (a button works once). */
  takeFor(id: string, command: PendingCommand = 'config'): PendingAction | undefined {
    return this.take(id, (p) => (p.command ?? 'config') === command);
  }
}
