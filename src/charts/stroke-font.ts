/**
 * A tiny stroke font for chart labels, drawn as SVG paths. resvg only draws `<text>` with fonts
 * it can find, and a bot's container often has none: labels would then vanish without an error.
 * Strokes need no font at all, render the same on every machine, and cover what a chart label
 * holds (numbers, durations, times, dates, true/false, version numbers).
 *
 * Each glyph is drawn on a grid 4 units wide and 6 tall, y growing downwards; lower-case
 * letters sit between y=2 and y=6. Polylines are separated by `|`, points by spaces: `0,0 4,0`
 * is a line from the top left to the top right of the cell.
 */
const GLYPHS: Readonly<Record<string, string>> = {
  '0': '0,0 4,0 4,6 0,6 0,0|4,0 0,6',
  '1': '1,1 2,0 2,6|1,6 3,6',
  '2': '0,0 4,0 4,3 0,3 0,6 4,6',
  '3': '0,0 4,0 4,6 0,6|1,3 4,3',
  '4': '0,0 0,3 4,3|4,0 4,6',
  '5': '4,0 0,0 0,3 4,3 4,6 0,6',
  '6': '4,0 0,0 0,6 4,6 4,3 0,3',
  '7': '0,0 4,0 2,6',
  '8': '0,0 4,0 4,6 0,6 0,0|0,3 4,3',
  '9': '4,3 0,3 0,0 4,0 4,6 0,6',
  '.': '2,5.6 2,6',
  ':': '2,1.8 2,2.2|2,4.8 2,5.2',
  '-': '0.5,3 3.5,3',
  '+': '0.5,3 3.5,3|2,1.5 2,4.5',
  a: '0,2 4,2 4,6 0,6 0,4 4,4',
  d: '4,0 4,6 0,6 0,2 4,2',
  e: '4,6 0,6 0,2 4,2 4,4 0,4',
  f: '4,0 1,0 1,6|0,3 3,3',
  h: '0,0 0,6|0,2 4,2 4,6',
  l: '2,0 2,6',
  m: '0,6 0,2 4,2 4,6|2,2 2,6',
  n: '0,6 0,2 4,2 4,6',
  o: '0,2 4,2 4,6 0,6 0,2',
  r: '0,6 0,2|0,3 1,2 4,2',
  s: '4,2 0,2 0,4 4,4 4,6 0,6',
  t: '1,0 1,6 3,6|0,2 3,2',
  u: '0,2 0,6 4,6 4,2',
  v: '0,2 2,6 4,2',
};

/** Grid units from one glyph's left edge to the next one's. */
const ADVANCE = 6;

/** Width in pixels of `text` at a glyph height of `size` pixels. */
export function strokeTextWidth(text: string, size: number): number {
  return text.length ? ((text.length * ADVANCE - 2) * size) / 6 : 0;
}

/**
 * SVG path data drawing `text` with its glyphs `size` pixels tall, its baseline at `y` and
 * anchored at `x` (start, middle or end). Characters the font lacks are left as a space.
 */
export function strokeText(
  text: string,
  x: number,
  y: number,
  size: number,
  anchor: 'start' | 'middle' | 'end' = 'start',
): string {
  const scale = size / 6;
  const width = strokeTextWidth(text, size);
  const left = anchor === 'start' ? x : anchor === 'middle' ? x - width / 2 : x - width;
  const top = y - size;
  const parts: string[] = [];
  [...text].forEach((ch, i) => {
    const ox = left + i * ADVANCE * scale;
    for (const line of (GLYPHS[ch] ?? '').split('|').filter(Boolean)) {
      const points = line.split(' ').map((p) => p.split(',').map(Number));
      parts.push(
        points
          .map(
            ([gx = 0, gy = 0], j) => `${j ? 'L' : 'M'}${round(ox + gx * scale)} ${round(top + gy * scale)}`,
          )
          .join(''),
      );
    }
  });
  return parts.join('');
}

const round = (n: number) => Math.round(n * 100) / 100;
