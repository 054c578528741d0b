import { parseFlag } from '../flags/schema.js';
import type { Actor, WireChange, WireFlag, WireFlagEvent, WireFlags, WireResolved } from '../wire.js';

/**
 * Shape checks of what the API sends. Each returns the typed value, or a short phrase saying what
 * is wrong, so that one malformed value is skipped with a warning instead of being stored under an
 * undefined key or throwing in the middle of the stream.
 */

type Fields = Record<string, unknown>;

/** A change event as the client reads it (it has no use for the value written at the change's scope). */
export type ChangeData = Omit<WireChange, 'change'>;

export function isFields(data: unknown): data is Fields {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

/** A resolved value (`GET /v1/config`, and the value part of a change). */
export function readValue(data: unknown): WireResolved | string {
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
export function readChange(data: unknown, seq: number): ChangeData | string {
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

/**
 * A flag as the API sends it: its definition is checked by the same parseFlag the server writes
 * with (defaults filled in), so the client never evaluates a definition the server would refuse.
 */
export function readFlag(data: unknown): WireFlag | string {
  if (!isFields(data)) return 'a flag is not an object';
  const { version, updatedAt, updatedBy, ...definition } = data;
  const name = typeof definition.name === 'string' ? definition.name : '?';
  if (!Number.isSafeInteger(version)) return `flag ${name}: \`version\` is not a whole number`;
  if (typeof updatedAt !== 'string' || Number.isNaN(Date.parse(updatedAt)))
    return `flag ${name}: \`updatedAt\` is not a date`;
  const parsed = parseFlag(definition);
  if (!parsed.ok) return `flag ${name}: ${parsed.errors.slice(0, 3).join('; ')}`;
  return {
    ...parsed.flag,
    version: version as number,
    updatedAt,
    updatedBy: readActor(updatedBy) ?? { id: 'unknown' },
  };
}

/** `GET /v1/flags`: the list, and what is wrong with each flag left out (a flag the client cannot read). */
export function readFlags(body: unknown): { flags: WireFlags; skipped: string[] } | string {
  if (!isFields(body)) return 'something other than a JSON object';
  const { seq, environment, flags } = body;
  if (!Number.isSafeInteger(seq)) return 'without a numeric seq';
  if (typeof environment !== 'string' || !environment) return 'without its environment';
  if (!Array.isArray(flags)) return 'without a list of flags';
  const read: WireFlag[] = [];
  const skipped: string[] = [];
  for (const data of flags) {
    const flag = readFlag(data);
    if (typeof flag === 'string') skipped.push(flag);
    else read.push(flag);
  }
  return { flags: { seq: seq as number, environment, flags: read }, skipped };
}

/** The data of an `event: flag`, at position `seq`. */
export function readFlagEvent(data: unknown, seq: number): WireFlagEvent | string {
  if (!isFields(data)) return 'data is not an object';
  const { name, version, action, actor, at } = data;
  if (typeof name !== 'string' || !name) return '`name` is not a string';
  if (!Number.isSafeInteger(version)) return '`version` is not a whole number';
  if (typeof action !== 'string') return '`action` is not a string';
  const flag = readFlag(data.flag);
  if (typeof flag === 'string') return flag;
  if (flag.name !== name) return `\`flag.name\` is ${flag.name}, not ${name}`;
  return {
    seq,
    name,
    version: version as number,
    action,
    actor: readActor(actor),
    at: typeof at === 'string' ? at : '',
    flag,
  };
}

/** Who made a change; a malformed actor is only a missing one (the change itself still holds). */
function readActor(data: unknown): Actor | null {
  if (!isFields(data) || typeof data.id !== 'string') return null;
  return typeof data.tag === 'string' ? { id: data.id, tag: data.tag } : { id: data.id };
}
