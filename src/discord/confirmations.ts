import { randomBytes } from 'node:crypto';
import type { ButtonInteraction } from 'discord.js';
import { errorDetail, logger } from '../base/logger.js';
import type { AuditAction } from '../storage/config-models.js';

/**
 * A change shown with Confirm and Cancel, waiting for one of them (see confirm.ts): a rollback,
 * a reset, a risky flag change, a snapshot restore, an import.
 */
export interface Confirmation {
  /** The command whose buttons answer it: a /flag confirmation is not carried out by /config's. */
  command: string;
  /** Who asked: only they may press. */
  userId: string;
  /** What it is, as the expired and cancelled prompts name it: `reset of MAX_BATCH_SIZE`. */
  what: string;
  /** As a refusal of someone else's press names it: `Only the admin who asked for this reset...`. */
  asked: string;
  /** What pressing attempts, checked (access, self-service scope) and audited before it runs. */
  attempt: { key: string; action: AuditAction; scope?: string };
  /** Carries it out; the press is acknowledged already (deferUpdate). */
  confirm(i: ButtonInteraction): Promise<void>;
}

interface Entry {
  value: Confirmation;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Every confirmation of a bot process, whatever command asked for it. Each expires after
 * `timeoutMs`, and the expiry callback edits the prompt so the admin sees that it expired. A
 * button works once (`take`).
 */
export class Confirmations {
  private readonly pending = new Map<string, Entry>();

  constructor(readonly timeoutMs: number) {}

  create(value: Confirmation, onExpire: () => Promise<void>): string {
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

  /**
   * The confirmation behind an id, when it has not expired and belongs to `command` (a /flag
   * confirmation is not carried out by a /config button, nor the reverse).
   */
  peek(id: string, command: string): Confirmation | undefined {
    const p = this.pending.get(id);
    return p && p.expiresAt > Date.now() && p.value.command === command ? p.value : undefined;
  }

  /** Removes and returns a confirmation of `command` (a button works once). */
  take(id: string, command: string): Confirmation | undefined {
    const value = this.peek(id, command);
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
