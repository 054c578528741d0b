import { randomBytes } from 'node:crypto';
import type { PlannedChange } from '../../config/transfer.js';
import { errorDetail, logger } from '../../logger.js';
import type { CommandContext } from '../types.js';

/** An import waiting for its Confirm button: the changes its preview showed. */
export interface PendingImport {
  userId: string;
  fileName: string;
  changes: PlannedChange[];
  reason: string;
}

interface Entry extends PendingImport {
  timer: NodeJS.Timeout;
}

/**
 * Imports waiting for Confirm, expiring like the other confirmations (CONFIRM_TIMEOUT_MS). Kept
 * apart from Confirmations, whose entries are one key each.
 */
export class PendingImports {
  private readonly pending = new Map<string, Entry>();

  constructor(readonly timeoutMs: number) {}

  create(p: PendingImport, onExpire: () => Promise<void>): string {
    const id = randomBytes(6).toString('hex');
    const timer = setTimeout(() => {
      if (!this.pending.delete(id)) return;
      onExpire().catch((err: unknown) =>
        logger.warn('Could not mark an import confirmation as expired', errorDetail(err)),
      );
    }, this.timeoutMs);
    timer.unref();
    this.pending.set(id, { ...p, timer });
    return id;
  }

  peek(id: string): PendingImport | undefined {
    return this.pending.get(id);
  }

  /** Removes and returns a pending import (a button works once). */
  take(id: string): PendingImport | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(id);
    return p;
  }
}

// One store per command context (each bot process, each test bot), without widening the shared
// CommandContext type; it goes with the context when the context goes.
const stores = new WeakMap<CommandContext, PendingImports>();

/** The pending imports of a bot. */
export function pendingImports(ctx: CommandContext): PendingImports {
  let s = stores.get(ctx);
  if (!s) stores.set(ctx, (s = new PendingImports(ctx.confirmations.timeoutMs)));
  return s;
}
