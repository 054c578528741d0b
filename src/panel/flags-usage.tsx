import { FlagUsageRecords } from '../storage/flag-usage.js';
import type { DbConnection } from '../storage/connection.js';
import { isOn, REASONS, type Reason } from '@config-bot/client/flags';
import type { ReasonCounts } from '../flags/usage.js';
import { Time } from './layout.js';

const HOUR_MS = 3_600_000;

/** One hour of a flag's evaluations, every process and application together. */
export interface HourCounts {
  hour: Date;
  on: number;
  off: number;
  counts: ReasonCounts;
}

/** What the flag page shows of evaluations: stored hourly counts, and this process's own. */
export interface FlagUsageView {
  name: string;
  range: UsageRange;
  hours: HourCounts[];
  /** This process's evaluations since it started (in memory, not yet all stored). */
  here: ReasonCounts;
  lastEvaluated: Date | undefined;
}

const onOff = (counts: ReasonCounts) => {
  let on = 0;
  let off = 0;
  REASONS.forEach((r, code) => {
    const n = counts[r] ?? 0;
    if (isOn(code)) on += n;
    else off += n;
  });
  return { on, off };
};

/** The spans the page shows: a day by the hour, or a week by the day (UTC). */
export const RANGES = {
  '24h': { label: 'last 24 hours', bucketMs: HOUR_MS, buckets: 24 },
  '7d': { label: 'last 7 days', bucketMs: 24 * HOUR_MS, buckets: 7 },
} as const;
export type UsageRange = keyof typeof RANGES;

/**
 * A flag's stored counts over `range` (every process reports its counts into the hour they were
 * made; FlagUsage writes them), one entry per hour or day, empty ones included, oldest first.
 */
export async function hourlyCounts(
  conn: DbConnection,
  name: string,
  range: UsageRange = '24h',
  now = new Date(),
): Promise<HourCounts[]> {
  const { bucketMs, buckets } = RANGES[range];
  const last = Math.floor(now.getTime() / bucketMs) * bucketMs;
  const first = last - (buckets - 1) * bucketMs;
  const byBucket = new Map<number, ReasonCounts>();
  for (const d of await new FlagUsageRecords(conn).since(new Date(first))) {
    if (d.name !== name) continue;
    const at = Math.floor(d.hour.getTime() / bucketMs) * bucketMs;
    const row = byBucket.get(at) ?? {};
    for (const [reason, n] of Object.entries(d.counts) as [Reason, number][])
      row[reason] = (row[reason] ?? 0) + n;
    byBucket.set(at, row);
  }
  const out: HourCounts[] = [];
  for (let t = first; t <= last; t += bucketMs) {
    const counts = byBucket.get(t) ?? {};
    out.push({ hour: new Date(t), counts, ...onOff(counts) });
  }
  return out;
}

/** Reasons with a count, on ones first: `rollout_in 12 · included 3`. */
function reasonsText(counts: ReasonCounts): string {
  const entries = REASONS.map((r, code) => ({ r, on: isOn(code), n: counts[r] ?? 0 })).filter((e) => e.n > 0);
  entries.sort((a, b) => Number(b.on) - Number(a.on));
  return entries.map((e) => `${e.r} ${e.n}`).join(' · ') || 'none';
}

/**
 * Evaluations over the last 24 hours: a bar per hour (on above the line, off below), drawn in
 * SVG with the theme's colours (classes, no inline style), and the same figures as a table.
 */
export function UsageSection({ usage }: { usage: FlagUsageView }) {
  const { hours } = usage;
  const r = RANGES[usage.range];
  const unit = usage.range === '24h' ? 'hour' : 'day';
  const when = (d: Date) =>
    usage.range === '24h' ? `${d.toISOString().slice(11, 16)} UTC` : d.toISOString().slice(0, 10);
  const total = hours.reduce((a, h) => ({ on: a.on + h.on, off: a.off + h.off }), { on: 0, off: 0 });
  const max = Math.max(1, ...hours.map((h) => Math.max(h.on, h.off)));
  const w = Math.max(hours.length * 20, 140);
  const step = w / hours.length;
  const mid = 60;
  const bar = (n: number) => Math.round((n / max) * (mid - 4));
  const here = onOff(usage.here);
  return (
    <section aria-labelledby="usage" class="card">
      <h2 id="usage">Evaluations, {r.label}</h2>
      <p class="fl-range">
        {(Object.keys(RANGES) as UsageRange[]).map((k) =>
          k === usage.range ? (
            <strong aria-current="true">{RANGES[k].label}</strong>
          ) : (
            <a href={`/panel/flags/${usage.name}?usage=${k}#usage`}>{RANGES[k].label}</a>
          ),
        )}
      </p>
      <p>
        <span class="ok">on {total.on}</span> · <span class="fl-muted">off {total.off}</span> · last evaluated{' '}
        <Time at={usage.lastEvaluated} />
      </p>
      {total.on + total.off > 0 ? (
        <figure class="fl-chart">
          <svg
            viewBox={`0 0 ${w} ${mid * 2}`}
            role="img"
            aria-label={`Evaluations per ${unit}: on above the line, off below`}
          >
            <line class="fl-axis" x1="0" y1={mid} x2={w} y2={mid} />
            {hours.map((h, i) => (
              <g>
                <title>{`${when(h.hour)}: on ${h.on}, off ${h.off}`}</title>
                {h.on > 0 && (
                  <rect
                    class="fl-bar-on"
                    x={i * step + step * 0.15}
                    y={mid - bar(h.on)}
                    width={step * 0.7}
                    height={bar(h.on)}
                  />
                )}
                {h.off > 0 && (
                  <rect
                    class="fl-bar-off"
                    x={i * step + step * 0.15}
                    y={mid + 1}
                    width={step * 0.7}
                    height={bar(h.off)}
                  />
                )}
              </g>
            ))}
          </svg>
          <figcaption class="hint">
            Each bar is one {unit} (UTC), oldest on the left: on above the line, off below.
          </figcaption>
        </figure>
      ) : (
        <p class="hint">No evaluation stored in the {r.label}.</p>
      )}
      {total.on + total.off > 0 && (
        <details>
          <summary>{unit === 'hour' ? 'Hour by hour' : 'Day by day'}</summary>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">{unit === 'hour' ? 'Hour' : 'Day (UTC)'}</th>
                  <th scope="col">On</th>
                  <th scope="col">Off</th>
                  <th scope="col">By rule</th>
                </tr>
              </thead>
              <tbody>
                {hours
                  .filter((h) => h.on + h.off > 0)
                  .reverse()
                  .map((h) => (
                    <tr>
                      <td>{unit === 'hour' ? <Time at={h.hour} /> : when(h.hour)}</td>
                      <td>{h.on}</td>
                      <td>{h.off}</td>
                      <td>{reasonsText(h.counts)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
      <p class="hint">
        This process counted on {here.on}, off {here.off} since it started ({reasonsText(usage.here)});
        processes store their counts every few seconds, into the hour they were made.
      </p>
    </section>
  );
}
