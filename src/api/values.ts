import type { ConfigService, Resolved } from '../config/service.js';
import type { ApiToken } from './tokens.js';

/** A key's resolved value as the API shows it to one token. */
export interface ValueView {
  value: unknown;
  masked?: true;
  version: number;
  layer: string;
  sensitive: boolean;
}

/** Sensitive values are masked (null, `masked: true`) unless the token was created to see them. */
export function valueView(r: Resolved, token: ApiToken): ValueView {
  const hidden = r.def.sensitive && !token.sensitive;
  return {
    value: hidden ? null : (r.value ?? null),
    ...(hidden ? { masked: true as const } : {}),
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
