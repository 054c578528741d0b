import { Undecryptable } from '../config/codec.js';
import type { RegisteredKey } from '../config/registry.js';
import type { ConfigService, Resolved } from '../config/service.js';
import type { ApiToken } from './tokens.js';

/**
 * A value as the API shows it to one token, the one masking rule of every answer (reads, history,
 * writes, events): a sensitive value the token may not see, or one this process cannot decrypt,
 * is `null` with `masked: true` (and `undecryptable: true` for the latter); an unset value is
 * `null` without `masked`.
 */
export interface WireValue {
  value: unknown;
  masked?: true;
  undecryptable?: true;
}

export function wireValue(
  def: Pick<RegisteredKey, 'sensitive'>,
  value: unknown,
  token: ApiToken,
  undecryptable = value instanceof Undecryptable,
): WireValue {
  if (undecryptable) return { value: null, masked: true, undecryptable: true };
  if (value === undefined || value === null) return { value: null };
  if (def.sensitive && !token.sensitive) return { value: null, masked: true };
  return { value };
}

/** A key's resolved value as the API shows it to one token. */
export interface ValueView extends WireValue {
  version: number;
  layer: string;
  sensitive: boolean;
}

export function valueView(r: Resolved, token: ApiToken): ValueView {
  return {
    ...wireValue(r.def, r.value, token, r.undecryptable === true),
    version: r.version,
    layer: r.layer,
    sensitive: r.def.sensitive,
  };
}

/** Every key resolved for an environment and server. */
export function snapshotOf(
  config: ConfigService,
  token: ApiToken,
  at: { environment: string; guildId: string | undefined },
): Record<string, ValueView> {
  const values: Record<string, ValueView> = {};
  for (const key of config.keys().sort())
    values[key] = valueView(
      config.resolve(key, { environment: at.environment, guildId: at.guildId ?? null }),
      token,
    );
  return values;
}
