// From discord-api-types, which discord.js re-exports: an API process need not load discord.js.
import { ButtonStyle, ComponentType } from 'discord-api-types/v10';
import type { DbConnection } from '../storage/connection.js';
import { KillAlertClaims } from '../storage/kill-alerts.js';
import { errorDetail, logger } from '../base/logger.js';
import { thresholdText } from '../flags/diff.js';
import type { FlagChange, FlagStore } from '../flags/flags.js';
import type { Notifier } from '../jobs/notifier.js';

/** The custom id of the alert's button: `/flag`'s button handler turns the flag back on. */
export const turnOnButtonId = (name: string, version: number): string => `flag:turn-on:${name}:${version}`;

/**
 * Posts each automatic kill to the alert channel, once however many bot processes hear of it:
 * the first to claim the kill (a unique insert) posts. The message has a button to turn the flag
 * back on (handled by commands/flag/on.ts). Never throws; a failed post is logged.
 */
export class KillAlerts {
  private readonly claims: KillAlertClaims;
  private detach: (() => void) | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    conn: DbConnection,
    private readonly flags: FlagStore,
    private readonly notifier: Notifier,
    private readonly channelId: string,
    private readonly holder: string,
  ) {
    this.claims = new KillAlertClaims(conn);
  }

  start(): void {
    this.detach = this.flags.subscribe((c) => {
      if (c.action !== 'kill') return;
      const p = this.alert(c).finally(() => this.pending.delete(p));
      this.pending.add(p);
    });
  }

  /** Stops listening and waits for alerts being posted. */
  async stop(): Promise<void> {
    this.detach?.();
    await Promise.all([...this.pending]);
  }

  private async alert(c: FlagChange): Promise<void> {
    try {
      const claimed = await this.claims.claim(c.name, c.version, this.holder);
      if (!claimed) return;
      const t = c.flag.errorThreshold;
      await this.notifier.post(
        this.channelId,
        [
          `🛑 **${c.name}** was switched off automatically (version ${c.version}).`,
          c.reason ?? `Errors passed its threshold${t ? ` (${thresholdText(t)})` : ''}.`,
          `Owner: ${c.flag.owner}. Turn it back on once the cause is fixed, or leave it off.`,
        ].join('\n'),
        [],
        [
          {
            type: ComponentType.ActionRow,
            components: [
              {
                type: ComponentType.Button,
                style: ButtonStyle.Danger,
                custom_id: turnOnButtonId(c.name, c.version),
                label: `Turn ${c.name} back on`.slice(0, 80),
              },
            ],
          },
        ],
      );
    } catch (err) {
      logger.error(`Could not post the automatic kill of ${c.name} to the alert channel`, errorDetail(err));
    }
  }
}
