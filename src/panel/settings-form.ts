import { createHash } from 'node:crypto';
import { UserError } from '../base/errors.js';
import type { RegisteredKey } from '../config/registry.js';
import type { RequestContext } from '../config/types.js';
import type { Actor } from '../storage/config-models.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';

/** What the edit form of a key sends (the preview and the apply alike). */
export interface EditForm {
  value: string;
  /** As chosen in the form; '' for a self-service session's own scope. */
  scope: string;
  reason: string;
  forText: string;
  atText: string;
  /** Set by the preview: the version it was computed from. */
  expectedVersion: number | undefined;
  /** Set by the preview: what it showed (see formDigest). */
  digest: string;
  /** The explicit confirmation of a change to production or of a high-impact key. */
  confirmed: boolean;
}

const field = (body: Record<string, unknown>, name: string): string => {
  const v = body[name];
  const text = Array.isArray(v) ? v[0] : v;
  return typeof text === 'string' ? text : '';
};

/** The edit form as posted (fields missing or repeated read as empty or as their first). */
export function formOf(raw: unknown): EditForm {
  const body = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const version = field(body, 'expectedVersion');
  return {
    value: field(body, 'value'),
    scope: field(body, 'scope').trim(),
    reason: field(body, 'reason'),
    forText: field(body, 'for').trim(),
    atText: field(body, 'at').trim(),
    expectedVersion: /^\d{1,9}$/.test(version) ? Number(version) : undefined,
    digest: field(body, 'digest'),
    confirmed: field(body, 'confirm') === 'yes',
  };
}

/**
 * What the preview showed, as a digest bound to the session: the apply refuses a form edited
 * after its preview, so what is applied is always what was previewed. (A digest rather than the
 * fields themselves: the value may be a secret, which the page must not carry back.)
 */
export function formDigest(form: EditForm, session: PanelSessionDoc): string {
  return createHash('sha256')
    .update(JSON.stringify([session.csrf, form.value, form.scope, form.reason, form.forText, form.atText]))
    .digest('base64url');
}

/** Whether a session from outside the allowlist (self-service) may manage this key for its server. */
function selfService(def: RegisteredKey): boolean {
  return Boolean(def.guildSelfService && def.scopes.includes('guild'));
}

/**
 * The scopes the session may write `def` at, as the scope select offers them: every scope the
 * key allows (each environment, the session's server), or, for a self-service session, its own
 * server only and only for a self-service key. Empty: no edit form.
 */
export function scopesFor(
  def: RegisteredKey,
  environments: readonly string[],
  session: PanelSessionDoc,
): string[] {
  if (session.access !== 'write') return [];
  if (session.ownScope) return selfService(def) ? [session.ownScope] : [];
  const out: string[] = [];
  if (def.scopes.includes('global')) out.push('global');
  if (def.scopes.includes('env')) out.push(...environments.map((e) => `env:${e}`));
  if (def.scopes.includes('guild') && session.guildId) out.push(`guild:${session.guildId}`);
  return out;
}

/**
 * The scope a write goes to, re-checked on every write: a self-service session writes its own
 * server's scope of a self-service key, nothing else (as Discord's checkSelfService). Others
 * write the scope they chose (the service checks the key allows it).
 */
export function writeScope(
  def: RegisteredKey,
  session: PanelSessionDoc,
  typed: string,
  action: string,
): string {
  const own = session.ownScope;
  if (!own) return typed || 'global';
  const attempt = { key: def.key, action, scope: typed || own };
  if (!selfService(def))
    throw new UserError(
      'PERMISSION_DENIED',
      `Your server may not manage ${def.key}: only some keys can be set per server by its own admins.`,
      attempt,
      `self-service of ${own} asked for ${def.key}, not a self-service key`,
    );
  if ((typed || own) !== own)
    throw new UserError(
      'PERMISSION_DENIED',
      `You can only manage ${def.key} for your own server (scope ${own}).`,
      attempt,
      `self-service of ${own} asked for ${typed}`,
    );
  return own;
}

/**
 * Whether applying needs the explicit confirmation: a high-impact key, or a change that reaches
 * production (its env scope, or the global value while production has no override of its own).
 */
export function needsConfirmation(
  def: RegisteredKey,
  scope: string,
  config: { environments: readonly string[]; overrideScopes(key: string): string[] },
): boolean {
  if (def.impact === 'high' || def.impact === 'critical') return true;
  const production = config.environments.filter((e) => /^prod/i.test(e)).map((e) => `env:${e}`);
  if (production.includes(scope)) return true;
  const overrides = config.overrideScopes(def.key);
  return scope === 'global' && production.some((p) => !overrides.includes(p));
}

/** Who acts, for the service's audit rows. */
export function actorOf(session: PanelSessionDoc): Actor {
  return { id: session.user.id, tag: session.user.tag };
}

/** Where the attempt came from, for the audit rows: every panel write is on channel `panel`. */
export function contextOf(session: PanelSessionDoc): RequestContext {
  return session.guildId ? { guildId: session.guildId, channelId: 'panel' } : { channelId: 'panel' };
}
