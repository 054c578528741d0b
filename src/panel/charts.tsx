import type { ComponentChildren } from 'preact';
import type { Series } from './dashboard-data.js';

/**
 * Charts drawn on the server as SVG inside the page: no script, nothing fetched. Colours come
 * from the page's stylesheet (classes c0..c5, text in currentColor), so they follow the light or
 * dark theme; each chart says what it shows in words and carries its figures as a table.
 */

const W = 480;
/** Series colours: Okabe-Ito's palette, told apart with the common colour-vision deficiencies. */
const COLOURS = 6;

const cls = (i: number) => `c${i % COLOURS}`;
const round = (n: number) => Math.round(n * 10) / 10;

/** A round top for the axis (1, 2 or 5 times a power of ten) and its ticks, 4 or 5 lines. */
function scale(max: number): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power);
  const ticks: number[] = [];
  for (let v = 0; v < max + step; v += step) ticks.push(v);
  return ticks;
}

function Legend({ names }: { names: string[] }) {
  if (names.length < 2) return null;
  return (
    <ul class="legend">
      {names.map((n, i) => (
        <li>
          <span class={`swatch ${cls(i)}`} aria-hidden="true" />
          {n}
        </li>
      ))}
    </ul>
  );
}

/** The chart's figures as a table, folded under the chart (screen readers and exact numbers). */
function DataTable({ data, rowHead }: { data: Series; rowHead: string }) {
  return (
    <details class="chart-table">
      <summary>Figures as a table</summary>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">{rowHead}</th>
              {data.series.map((s) => (
                <th scope="col">{s.name}</th>
              ))}
              {data.series.length > 1 && <th scope="col">total</th>}
            </tr>
          </thead>
          <tbody>
            {data.labels.map((label, i) => (
              <tr>
                <th scope="row">{label}</th>
                {data.series.map((s) => (
                  <td class="db-num">{s.values[i] ?? 0}</td>
                ))}
                {data.series.length > 1 && (
                  <td class="db-num">{data.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)}</td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

interface ChartProps {
  id: string;
  title: string;
  /** One sentence saying what the chart shows (its text alternative). */
  summary: string;
  data: Series;
  /** The heading of the table's first column (day, hour, who...). */
  rowHead: string;
  /** Shown instead of an empty chart. */
  empty?: string;
  children?: ComponentChildren;
}

function Frame({ id, title, summary, data, rowHead, empty, children }: ChartProps) {
  const total = data.series.reduce((sum, s) => sum + s.values.reduce((a, b) => a + b, 0), 0);
  return (
    <figure class="chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`}>{title}</figcaption>
      {total === 0 ? (
        <p class="hint">{empty ?? 'Nothing yet.'}</p>
      ) : (
        <>
          <p class="hint" id={`${id}-desc`}>
            {summary}
          </p>
          {children}
          <Legend names={data.series.map((s) => s.name)} />
          <DataTable data={data} rowHead={rowHead} />
        </>
      )}
    </figure>
  );
}

/** Vertical bars, one per label, the series stacked. */
export function ColumnChart(props: ChartProps) {
  const { data, id } = props;
  const H = 200;
  const plot = { x0: 40, x1: W - 8, y0: 12, y1: H - 26 };
  const totals = data.labels.map((_, i) => data.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const ticks = scale(Math.max(0, ...totals));
  const top = ticks.at(-1) ?? 1;
  const y = (v: number) => plot.y1 - (v / top) * (plot.y1 - plot.y0);
  const slot = (plot.x1 - plot.x0) / Math.max(1, data.labels.length);
  const bar = Math.max(2, slot * 0.7);
  // At most about eight labels under the axis, so they never overlap.
  const every = Math.ceil(data.labels.length / 8);
  return (
    <Frame {...props}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-title ${id}-desc`}>
        <g class="grid">
          {ticks.map((t) => (
            <line x1={plot.x0} x2={plot.x1} y1={round(y(t))} y2={round(y(t))} />
          ))}
        </g>
        <g class="axis" aria-hidden="true">
          {ticks.map((t) => (
            <text x={plot.x0 - 6} y={round(y(t)) + 4} text-anchor="end">
              {t}
            </text>
          ))}
          {data.labels.map((label, i) =>
            // Counted from the last (the newest, always labelled), so no two labels crowd.
            (data.labels.length - 1 - i) % every === 0 ? (
              <text x={round(plot.x0 + slot * i + slot / 2)} y={H - 8} text-anchor="middle">
                {label}
              </text>
            ) : null,
          )}
        </g>
        {data.labels.map((_, i) => {
          let base = 0;
          return (
            <g>
              {data.series.map((s, k) => {
                const v = s.values[i] ?? 0;
                if (v <= 0) return null;
                const y0 = y(base + v);
                const h = y(base) - y0;
                base += v;
                return (
                  <rect
                    class={cls(k)}
                    x={round(plot.x0 + slot * i + (slot - bar) / 2)}
                    y={round(y0)}
                    width={round(bar)}
                    height={round(Math.max(h, 1))}
                  >
                    <title>{`${data.labels[i]}: ${s.name} ${v}`}</title>
                  </rect>
                );
              })}
            </g>
          );
        })}
      </svg>
    </Frame>
  );
}

/** Horizontal bars, one row per label (long labels: people, keys), the series stacked. */
export function BarChart(props: ChartProps & { unit?: string }) {
  const { data, id, unit = '' } = props;
  const row = 26;
  const H = 24 + row * data.labels.length;
  const plot = { x0: 170, x1: W - 56, y0: 4 };
  const totals = data.labels.map((_, i) => data.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const top = Math.max(1, ...totals);
  const x = (v: number) => plot.x0 + (v / top) * (plot.x1 - plot.x0);
  return (
    <Frame {...props}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-title ${id}-desc`}>
        <line class="grid" x1={plot.x0} x2={plot.x0} y1={0} y2={H - 20} />
        {data.labels.map((label, i) => {
          let base = 0;
          const cy = plot.y0 + row * i;
          return (
            <g>
              <text class="axis" x={plot.x0 - 8} y={cy + 16} text-anchor="end" aria-hidden="true">
                {label.length > 16 ? `${label.slice(0, 15)}…` : label}
              </text>
              {data.series.map((s, k) => {
                const v = s.values[i] ?? 0;
                if (v <= 0) return null;
                const from = x(base);
                base += v;
                return (
                  <rect
                    class={cls(k)}
                    x={round(from)}
                    y={cy + 4}
                    width={round(Math.max(x(base) - from, 1))}
                    height={row - 8}
                  >
                    <title>{`${label}: ${s.name} ${v}${unit}`}</title>
                  </rect>
                );
              })}
              <text class="axis" x={round(x(totals[i] ?? 0)) + 6} y={cy + 16} aria-hidden="true">
                {`${totals[i] ?? 0}${unit}`}
              </text>
            </g>
          );
        })}
      </svg>
    </Frame>
  );
}

/** A share as a bar out of 100 %, with the number in words beside it. */
export function ShareBar({ share, label }: { share: number; label: string }) {
  const pct = Math.round(Math.min(1, Math.max(0, share)) * 1000) / 10;
  return (
    <div class="db-share">
      <svg viewBox="0 0 200 12" aria-hidden="true" preserveAspectRatio="none">
        <rect class="db-track" x={0} y={0} width={200} height={12} />
        <rect class="c2" x={0} y={0} width={pct * 2} height={12} />
      </svg>
      <span>
        {label}: {pct} %
      </span>
    </div>
  );
}
