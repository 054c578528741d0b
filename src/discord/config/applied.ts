import { setTimeout as sleep } from 'node:timers/promises';
import type { Instance, InstanceStore } from '../../changes/instances.js';
import { errorDetail, logger } from '../../base/logger.js';
import { safe } from '../render.js';

/** How long a reply waits for every live process to apply a change before saying which have not. */
export const APPLIED_WAIT_MS = 4000;
const STEP_MS = 150;

const label = (i: Instance) => `${i.name ?? i.id} (${i.kind})`;

/**
 * The line a write's reply ends with: how many live processes applied the change at `seq`, and how
 * fast ("Applied by 3 of 3 processes, slowest 140 ms"), or which had not after APPLIED_WAIT_MS.
 * Undefined when no process reports itself (nothing to say) or the list cannot be read.
 */
export async function appliedLine(
  instances: InstanceStore,
  seq: number,
  committedAt: Date,
  waitMs = APPLIED_WAIT_MS,
): Promise<string | undefined> {
  const until = Date.now() + waitMs;
  try {
    for (;;) {
      const by = await instances.appliedBy(seq, committedAt);
      if (by.live === 0) return undefined;
      if (!by.waiting.length || Date.now() >= until) {
        const lags = by.applied.map((a) => a.lagMs).filter((l): l is number => l !== undefined);
        const slowest = lags.length ? `, slowest ${Math.max(...lags)} ms` : '';
        const head = `Applied by ${by.applied.length} of ${by.live} process${by.live === 1 ? '' : 'es'}${slowest}`;
        if (!by.waiting.length) return `${head}.`;
        const names = by.waiting.slice(0, 5).map(label).join(', ');
        const more = by.waiting.length > 5 ? ` and ${by.waiting.length - 5} more` : '';
        return safe(`${head}; not yet after ${Math.round(waitMs / 1000)} s: ${names}${more}.`, 1000);
      }
      await sleep(STEP_MS);
    }
  } catch (err) {
    logger.warn('Could not tell which processes applied a change', errorDetail(err));
    return undefined;
  }
}

/** /config status: one line per process, live ones first. */
export function processLines(list: Instance[], latest: number, self: string | undefined): string[] {
  return list.slice(0, 15).map((i) => {
    const state = i.state === 'live' ? '🟢' : i.state === 'stopped' ? '⚪' : '🔴';
    const behind = latest - i.applied;
    const applied =
      i.state !== 'live'
        ? `${i.state}, last seen <t:${Math.floor(i.lastSeen.getTime() / 1000)}:R>`
        : behind <= 0
          ? `up to date (#${i.applied})`
          : `${behind} change${behind === 1 ? '' : 's'} behind (#${i.applied})`;
    return `${state} ${safe(`${label(i)}${i.id === self ? ' · this one' : ''} · ${i.host ?? '?'}`, 150)} · ${applied}`;
  });
}
