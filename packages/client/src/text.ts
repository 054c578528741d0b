/**
 * Control characters, and the invisible characters that reorder or hide text (bidirectional
 * overrides and isolates, zero-width characters, the byte-order mark). In a reason or a value they
 * can make an audit entry read differently from what was stored (a right-to-left override turns
 * "txt.exe" into "exe.txt"), so they are shown as their code point instead.
 */
const HIDDEN =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** `text` with every hidden character shown visibly as [U+XXXX]. */
export function visible(text: string): string {
  return text.replace(
    HIDDEN,
    (c) => `[U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`,
  );
}

/** Keeps error messages short and single-line whatever was typed, with hidden characters shown. */
export function preview(s: string, max = 40): string {
  const oneLine = visible(s.replace(/[\r\n\t]+/g, ' '));
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}
