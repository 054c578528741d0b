import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { stepChartSvg } from '../../src/charts/step-chart.js';
import { strokeText } from '../../src/charts/stroke-font.js';

/** How many pixels of a rendered SVG are not transparent (no font is loaded). */
function inked(svg: string): number {
  // `pixels` copies the image out of resvg on every read: once.
  const pixels = new Resvg(svg, { font: { loadSystemFonts: false } }).render().pixels;
  let n = 0;
  for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) n++;
  return n;
}

describe('step chart', () => {
  it('draws its labels without any font', () => {
    const d = strokeText('v12 18:30 0.85 30m true', 2, 14, 12);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="20"><path d="${d}" stroke="#000" fill="none"/></svg>`;
    expect(inked(svg)).toBeGreaterThan(200);
  });

  it('marks every change and labels the newest, with round values on the axis', () => {
    const svg = stepChartSvg({
      points: [
        { at: new Date('2026-01-01T00:00:00Z'), value: 100, label: 'v1' },
        { at: new Date('2026-01-02T00:00:00Z'), value: 250, label: 'v2' },
        { at: new Date('2026-01-03T00:00:00Z'), value: null, label: 'v3' },
      ],
      end: new Date('2026-01-04T00:00:00Z'),
      formatY: String,
    });
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toMatch(/^<svg [^>]*width="800" height="300"/);
    expect(inked(svg)).toBe(800 * 300);
  });
});
