import type { ConfigVersionDoc } from '../../storage/config-models.js';
import type { RegisteredKey } from '../../config/registry.js';
import type { Scope } from '../../config/scopes.js';
import { stepChartPng, type StepPoint } from '../../charts/step-chart.js';
import { errorDetail, logger } from '../../base/logger.js';
import type { CommandContext } from '../types.js';

/** How many of the newest versions a history chart shows. */
export const CHART_VERSIONS = 50;

/** How a key's values become heights on a chart, and heights labels. */
interface Axis {
  height(value: unknown): number | null;
  label(height: number): string;
  ticks?: number[];
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The axis of a key whose values have an order worth drawing: integers, decimals and durations
 * (labelled in the key's own format), times of day (in minutes of the day) and booleans. None for
 * any other kind, and none for a sensitive key, whose values a chart would reveal. The kind is
 * told by the type text every kind declares (kinds.ts), which `withRule` keeps as its start.
 */
export function chartAxis(def: RegisteredKey): Axis | undefined {
  if (def.sensitive) return undefined;
  const t = def.type;
  if (t.startsWith('integer') || t.startsWith('number ') || t.startsWith('duration'))
    return {
      height: (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null),
      label: (n) => def.format(n as never),
    };
  if (t.startsWith('time HH:MM'))
    return {
      height: (v) => {
        const m = typeof v === 'string' ? /^(\d{2}):(\d{2})$/.exec(v) : null;
        return m ? Number(m[1]) * 60 + Number(m[2]) : null;
      },
      label: (n) => `${pad(Math.floor(n / 60) % 24)}:${pad(Math.round(n % 60))}`,
    };
  if (t.startsWith('boolean'))
    return {
      height: (v) => (typeof v === 'boolean' ? Number(v) : null),
      label: (n) => (n ? 'true' : 'false'),
      ticks: [0, 1],
    };
  return undefined;
}

/** The points of a chart from versions newest first (as history returns them), oldest first. */
export function chartPoints(axis: Axis, rows: readonly ConfigVersionDoc[]): StepPoint[] {
  return [...rows]
    .reverse()
    .map((r) => ({ at: new Date(r.createdAt), value: axis.height(r.value), label: `v${r.version}` }));
}

/**
 * A PNG step chart of a key's newest versions at a scope, for /config history; undefined for a
 * kind with no chart. A key with one version still gets one (a flat line since it was set), so
 * every numeric key answers the same way. A failed render is logged and the history is shown
 * without it: the chart is an extra.
 */
export async function historyChart(
  ctx: CommandContext,
  def: RegisteredKey,
  scope: Scope,
): Promise<{ name: string; data: Buffer } | undefined> {
  const axis = chartAxis(def);
  if (!axis) return undefined;
  const rows = await ctx.config.history(def.key, { scope, limit: CHART_VERSIONS });
  if (!rows.length) return undefined;
  try {
    const data = stepChartPng({
      points: chartPoints(axis, rows),
      end: new Date(),
      formatY: axis.label,
      ...(axis.ticks ? { ticks: axis.ticks } : {}),
    });
    return { name: `${def.key.toLowerCase()}-history.png`, data };
  } catch (err) {
    logger.warn(`Could not draw the history chart of ${def.key} at ${scope}`, errorDetail(err));
    return undefined;
  }
}
