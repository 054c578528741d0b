import deepmerge from 'deepmerge';

/** A JSON object as stored: not an array, not null. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The layers of a `merge: 'deep'` key merged from the least specific to the most: objects field
 * by field, anything else (arrays included) replaced by the more specific layer. deepmerge is a
 * small, well-kept library that copies rather than mutating its inputs.
 */
export function mergeLayers(layers: readonly unknown[]): unknown {
  let out: unknown;
  for (const layer of layers) {
    if (layer === undefined) continue;
    out =
      isPlainObject(out) && isPlainObject(layer)
        ? deepmerge(out, layer, { arrayMerge: (_target, source: unknown[]) => source })
        : layer;
  }
  return out;
}
