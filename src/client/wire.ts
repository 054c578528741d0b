import type { Actor, WireChange, WireValue } from './types.js';

/**
 * Shape checks of what the API sends. Each returns the typed value, or a short phrase saying what
 * is wrong, so that one malformed value is skipped with a warning instead of being stored under an
 * undefined key or throwing in the middle of the stream.
 */

type Fields = Record<string, unknown>;

export function isFields(data: unknown): data is Fields {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

/** A resolved value (`GET /v1/config`, and the value part of a change). */
export function readValue(data: unknown): WireValue | string {
  if (!isFields(data)) return 'not an object';
  const { value, version, layer, sensitive, masked } = data;
  if (!Number.isSafeInteger(version)) return '`version` is not a whole number';
  if (typeof layer !== 'string') return '`layer` is not a string';
  if (sensitive !== undefined && typeof sensitive !== 'boolean') return '`sensitive` is not a boolean';
  if (masked !== undefined && typeof masked !== 'boolean') return '`masked` is not a boolean';
  return {
    value,
    version: version as number,
    layer,
    sensitive: sensitive === true,
    ...(masked === true ? { masked } : {}),
  };
}

/** The data of an `event: change`, at position `seq`. */
export function readChange(data: unknown, seq: number): WireChange | string {
  if (!isFields(data)) return 'data is not an object';
  const { key, scope, action, actor, at, layerVersion } = data;
  if (typeof key !== 'string' || !key) return '`key` is not a string';
  if (typeof scope !== 'string') return '`scope` is not a string';
  if (typeof action !== 'string') return '`action` is not a string';
  if (layerVersion !== undefined && !Number.isSafeInteger(layerVersion))
    return '`layerVersion` is not a whole number';
  const value = readValue(data);
  if (typeof value === 'string') return value;
  return {
    ...value,
    seq,
    key,
    scope,
    action,
    actor: readActor(actor),
    at: typeof at === 'string' ? at : '',
    ...(layerVersion !== undefined ? { layerVersion: layerVersion as number } : {}),
  };
}

/** Who made a change; a malformed actor is only a missing one (the change itself still holds). */
function readActor(data: unknown): Actor | null {
  if (!isFields(data) || typeof data.id !== 'string') return null;
  return typeof data.tag === 'string' ? { id: data.id, tag: data.tag } : { id: data.id };
}
