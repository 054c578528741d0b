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

interface Pending extends PendingAction {
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Rollbacks, resets and risky flag changes waiting for their Confirm button. Each expires after
 * `timeoutMs`, and the expiry callback edits the prompt so the admin sees that it expired.
 */
export class Confirmations {
  private readonly pending = new Map<string, Pending>();

  constructor(readonly timeoutMs: number) {}

  create(action: PendingAction, onExpire: () => Promise<void>): string {
    const id = randomBytes(6).toString('hex');
    const timer = setTimeout(() => {
      if (!this.pending.delete(id)) return;
      onExpire().catch((err: unknown) =>
        logger.warn('Could not mark a confirmation as expired', errorDetail(err)),
      );
    }, this.timeoutMs);
    timer.unref();
    this.pending.set(id, { ...action, expiresAt: Date.now() + this.timeoutMs, timer });
    return id;
  }

  /**
   * The pending action behind an id, when it has not expired and belongs to `command` (default
   * `config`): a /flag confirmation cannot be carried out by a /config button, nor the reverse.
   */
  peek(id: string, command: PendingCommand = 'config'): PendingAction | undefined {
    const p = this.pending.get(id);
    return p && p.expiresAt > Date.now() && (p.command ?? 'config') === command ? p : undefined;
  }

  /** Removes and returns a pending action (a button works once). */
  take(id: string, command: PendingCommand = 'config'): PendingAction | undefined {
    const p = this.peek(id, command);
    if (!p) return undefined;
    const entry = this.pending.get(id);
    clearTimeout(entry?.timer);
    this.pending.delete(id);
    return p;
  }

  /** Drops every pending action and its timer (shutdown). */
  clear(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}
