import { Resvg } from '@resvg/resvg-js';
import { strokeText, strokeTextWidth } from './stroke-font.js';

/** One change of a value: from `at` on it holds `value` (null: unset, drawn as a gap). */
export interface StepPoint {
  at: Date;
  value: number | null;
  /** Written above the change, e.g. `v7`. */
  label: string;
}

export interface StepChartInput {
  /** Oldest first. */
  points: readonly StepPoint[];
  /** Where the last value's step ends (usually now). */
  end: Date;
  /** Text of a value on the y axis (the key's own format: 30m, 18:00, 0.85). */
  formatY: (value: number) => string;
  /** Values to label on the y axis instead of computed ones (booleans: 0 and 1). */
  ticks?: readonly number[];
  width?: number;
  height?: number;
}

/** Every chart's size: wide and short, as Discord shows an embed image in full at this ratio. */
export const CHART_SIZE = { width: 800, height: 300 } as const;

const COLORS = { background: '#2b2d31', grid: '#3f4147', line: '#5865f2', text: '#dbdee1' } as const;
const MARGIN = { left: 84, right: 28, top: 34, bottom: 36 } as const;
const LABEL_SIZE = 10;

/** An SVG step chart of a value over time, each change marked and labelled. */
export function stepChartSvg(input: StepChartInput): string {
  const { width = CHART_SIZE.width, height = CHART_SIZE.height, points } = input;
  const plot = { x0: MARGIN.left, x1: width - MARGIN.right, y0: MARGIN.top, y1: height - MARGIN.bottom };
  const values = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  const [lo, hi] = domain(input.ticks?.length ? [...values, ...input.ticks] : values);
  const t0 = points[0]?.at.getTime() ?? input.end.getTime();
  // At least a minute wide, so changes made in the same instant still get a line to stand on.
  const t1 = Math.max(input.end.getTime(), (points.at(-1)?.at.getTime() ?? t0) + 1, t0 + 60_000);
  const x = (t: number) => plot.x0 + ((t - t0) / (t1 - t0)) * (plot.x1 - plot.x0);
  const y = (v: number) => plot.y1 - ((v - lo) / (hi - lo)) * (plot.y1 - plot.y0);

  const grid: string[] = [];
  const labels: string[] = [];
  for (const tick of input.ticks ?? niceTicks(lo, hi)) {
    const ty = round(y(tick));
    grid.push(`M${plot.x0} ${ty}H${plot.x1}`);
    labels.push(strokeText(input.formatY(tick), plot.x0 - 10, ty + LABEL_SIZE / 2, LABEL_SIZE, 'end'));
  }
  labels.push(strokeText(timeText(t0), plot.x0, height - 12, LABEL_SIZE, 'start'));
  labels.push(strokeText(timeText(t1), plot.x1, height - 12, LABEL_SIZE, 'end'));

  const steps: string[] = [];
  const markers: string[] = [];
  points.forEach((p, i) => {
    if (p.value === null) return;
    const from = x(p.at.getTime());
    const to = x(points[i + 1]?.at.getTime() ?? t1);
    const prev = points[i - 1]?.value;
    const py = round(y(p.value));
    // Joined to the previous step by a vertical rise or fall, unless that one was a gap.
    steps.push(prev === null || prev === undefined ? `M${round(from)} ${py}` : `V${py}`);
    steps.push(`H${round(to)}`);
    markers.push(`<circle cx="${round(from)}" cy="${py}" r="4" fill="${COLORS.line}"/>`);
  });
  labels.push(...versionLabels(points, x, y, plot));

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="${COLORS.background}"/>`,
    `<path d="${grid.join('')}" stroke="${COLORS.grid}" stroke-width="1" fill="none"/>`,
    `<path d="M${plot.x0} ${plot.y1}H${plot.x1}" stroke="${COLORS.text}" stroke-width="1" fill="none"/>`,
    `<path d="${steps.join('')}" stroke="${COLORS.line}" stroke-width="2.5" fill="none" stroke-linejoin="round"/>`,
    ...markers,
    `<path d="${labels.join('')}" stroke="${COLORS.text}" stroke-width="1.3" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`,
    '</svg>',
  ].join('');
}

/**
 * The labels of the changes, newest first so the latest always shows: a label that would
 * overlap the one to its right is left out (its marker stays).
 */
function versionLabels(
  points: readonly StepPoint[],
  x: (t: number) => number,
  y: (v: number) => number,
  plot: { x0: number; x1: number; y0: number },
): string[] {
  const out: string[] = [];
  let leftmost = Infinity;
  for (const p of [...points].reverse()) {
    const w = strokeTextWidth(p.label, LABEL_SIZE);
    const cx = Math.min(Math.max(x(p.at.getTime()), plot.x0 + w / 2), plot.x1 - w / 2);
    if (cx + w / 2 + 6 > leftmost) continue;
    const top = p.value === null ? plot.y0 + LABEL_SIZE : Math.max(y(p.value) - 10, plot.y0);
    out.push(strokeText(p.label, cx, top, LABEL_SIZE, 'middle'));
    leftmost = cx - w / 2;
  }
  return out;
}

/** The value range shown: the values with a margin, never empty. */
function domain(values: readonly number[]): [number, number] {
  if (!values.length) return [0, 1];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const pad = max > min ? (max - min) * 0.12 : Math.abs(max) * 0.1 || 1;
  return [min - pad, max + pad];
}

/** Round steps (1, 2 or 5 times a power of ten) covering `lo..hi` with about five lines. */
function niceTicks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi; k++) ticks.push(Number((k * step).toFixed(decimals)));
  return ticks;
}

/** `2026-03-01 18:05` (UTC): only characters the stroke font draws. */
function timeText(t: number): string {
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * A PNG of an SVG, rendered in this process by resvg (Rust, shipped prebuilt per platform in
 * the package: no browser, no canvas, nothing to download at install). System fonts are not
 * loaded: the charts draw their text as strokes (see stroke-font.ts), and scanning the fonts of
 * the machine would cost time on every render for nothing.
 */
export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, { fitTo: { mode: 'original' }, font: { loadSystemFonts: false } });
  return resvg.render().asPng();
}

/** A step chart as a PNG of CHART_SIZE (unless the input asks for another size). */
export function stepChartPng(input: StepChartInput): Buffer {
  return svgToPng(stepChartSvg(input));
}
