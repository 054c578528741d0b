import type { WireResolved, WireValue } from '@config-bot/client';
import { Undecryptable } from '../storage/codec.js';
import type { RegisteredKey } from '../config/registry.js';
import type { ConfigService, Resolved } from '../config/service.js';
import type { ApiToken } from '../tokens/tokens.js';

/**
 * A value as the API shows it to one token (`WireValue`, declared with the other wire types in
 * @config-bot/client): the one masking rule of every answer (reads, history, writes, events).
 */
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
export function valueView(r: Resolved, token: ApiToken): WireResolved {
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
): Record<string, WireResolved> {
  const values: Record<string, WireResolved> = {};
  for (const key of config.keys().sort())
    values[key] = valueView(
      config.resolve(key, { environment: at.environment, guildId: at.guildId ?? null }),
      token,
    );
  return values;
}
