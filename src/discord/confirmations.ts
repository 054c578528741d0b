import { randomBytes } from 'node:crypto';
import { errorDetail, logger } from '../logger.js';

export interface PendingAction {
  userId: string;
  action: 'rollback' | 'reset';
  key: string;
  /** Where: `global`, `env:<name>` or `guild:<id>`. */
  scope: string;
  toVersion?: number;
  reason?: string;
  /** The version the preview was computed from: confirming after someone else changed it is refused. */
  expectedVersion: number;
}

interface Pending extends PendingAction {
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Rollbacks and resets waiting for their Confirm button. Each expires after `timeoutMs`, and the
 * expiry callback edits the prompt so the admin sees that it expired.
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

  peek(id: string): PendingAction | undefined {
    const p = this.pending.get(id);
    return p && p.expiresAt > Date.now() ? p : undefined;
  }

  /** Removes and returns a pending action (a button works once). */
  take(id: string): PendingAction | undefined {
    const p = this.peek(id);
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
