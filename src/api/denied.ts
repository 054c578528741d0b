import type { AuditAction } from '../storage/config-models.js';
import type { ConfigService } from '../config/service.js';
import { GLOBAL } from '../config/scopes.js';
import { actorOf } from './auth.js';
import type { ApiToken } from '../tokens/tokens.js';

/**
 * Records a write the API refused before it reached the service (a read token, a scope the token
 * does not cover), as Discord records a refused command: status `denied`, the token as actor.
 */
export function recordDenied(
  config: ConfigService,
  token: ApiToken,
  attempt: { key: string; action: AuditAction; scope?: string | undefined; error: string },
): void {
  const key = config.isRegistered(attempt.key.toUpperCase())
    ? attempt.key.toUpperCase()
    : attempt.key.slice(0, 64);
  void config.audit.record({
    key,
    ...(attempt.scope && attempt.scope !== GLOBAL ? { scope: attempt.scope } : {}),
    action: attempt.action,
    status: 'denied',
    actor: actorOf(token),
    channelId: 'api',
    error: attempt.error,
  });
}
