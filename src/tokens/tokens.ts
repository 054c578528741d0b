import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../storage/config-models.js';
import type { DbConnection } from '../storage/connection.js';
import {
  TOKEN_ACCESS,
  TokenRecords,
  type ApiToken,
  type TokenAccess,
  type TokenRecord,
} from '../storage/tokens.js';
import { duration } from '../config/kinds.js';
import { GLOBAL, parseScope } from '../config/scopes.js';
import { UserError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import { preview } from '../base/text.js';

export { TOKEN_ACCESS, type ApiToken, type TokenAccess, type TokenRecord } from '../storage/tokens.js';

/** What every token starts with, so secret scanners can recognise a leaked one. */
export const TOKEN_PREFIX = 'cfgbot_';

/** Token names: what `/config token revoke` and the audit log know a token by. */
export const TOKEN_NAME = /^[a-z0-9_-]{2,32}$/;

/** `cfgbot_<10 hex id>_<32 random bytes, base64url>`. */
const TOKEN_TEXT = /^cfgbot_([0-9a-f]{10})_([A-Za-z0-9_-]{43})$/;

/** The shortest and longest lifetimes a token may be given at creation. */
export const TOKEN_TTL_MIN_MS = 60 * 60_000;
export const TOKEN_TTL_MAX_MS = 366 * 24 * 60 * 60_000;

/** The id and secret of a token's text, or undefined for anything that is not one. */
export function parseTokenText(raw: unknown): { id: string; secret: string } | undefined {
  const m = typeof raw === 'string' && raw.length < 100 ? TOKEN_TEXT.exec(raw) : null;
  return m ? { id: m[1] ?? '', secret: m[2] ?? '' } : undefined;
}

/** Whether `secret` is the one `hash` was made from; constant time. */
export function secretMatches(secret: string, hash: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(hash)) return false;
  // Both sides are 32 bytes, so the comparison's time says nothing about where they differ.
  return timingSafeEqual(Buffer.from(sha256(secret), 'hex'), Buffer.from(hash, 'hex'));
}

const TTL = duration({ min: TOKEN_TTL_MIN_MS, max: TOKEN_TTL_MAX_MS });

/** A token's lifetime as typed (`90d`, `12h`), in ms; undefined for none. UserError when unreadable. */
export function tokenTtl(text: string | null | undefined): number | undefined {
  if (text === null || text === undefined || !text.trim()) return undefined;
  const parsed = TTL.schema.safeParse(text.trim());
  if (parsed.success) return parsed.data;
  throw new UserError('INVALID_VALUE', `expires: ${parsed.error.issues.map((i) => i.message).join('; ')}.`, {
    key: 'token',
  });
}

/** Whether a token is past its expiry at `now`. */
export function isExpired(token: Pick<ApiToken, 'expiresAt'>, now = Date.now()): boolean {
  return token.expiresAt !== undefined && token.expiresAt.getTime() <= now;
}

/** What the audit log knows a token by: its name, never its text or hash. */
export const tokenAuditKey = (name: string | null | undefined): string => `token:${name || '*'}`.slice(0, 64);

/** What an audit row records of a token: what it may do, never its text or hash. */
export const describeToken = (t: ApiToken) => ({
  id: t.id,
  access: t.access,
  sensitive: t.sensitive,
  scope: t.scope ?? 'global',
  ...(t.expiresAt ? { expiresAt: t.expiresAt.toISOString() } : {}),
});

/** lastUsedAt is written at most this often per token. */
const TOUCH_INTERVAL_MS = 60_000;

export interface CreateTokenInput {
  name: string;
  access: TokenAccess;
  sensitive?: boolean;
  /** `global` (or nothing): every scope; `env:<name>` or `guild:<id>`: that scope only. */
  scope?: string | null;
  /** How long the token works, in ms (TOKEN_TTL_MIN_MS to TOKEN_TTL_MAX_MS); absent: until revoked. */
  ttlMs?: number | null;
  actor: Actor;
}

/**
 * The API tokens: created and revoked from Discord, verified by the HTTP API (stored by
 * src/storage/tokens.ts). The token text exists once, in the answer to `create`.
 */
export class TokenStore {
  private readonly records: TokenRecords;
  private readonly touched = new Map<string, number>();
  private readonly writes = new Set<Promise<void>>();

  constructor(conn: DbConnection) {
    this.records = new TokenRecords(conn);
  }

  /** Creates the unique index names depend on (the connection creates none by itself). */
  init(): Promise<void> {
    return this.records.init();
  }

  /**
   * Creates a token. Refuses a malformed name, an unknown scope and a name an active token has
   * (UserError INVALID_VALUE / CONFLICT). The returned `token` is the only copy of its secret.
   */
  async create(
    input: CreateTokenInput,
    environments: readonly string[],
  ): Promise<{ token: string; record: ApiToken }> {
    const name = checkName(input.name);
    if (!TOKEN_ACCESS.includes(input.access))
      throw new UserError(
        'INVALID_VALUE',
        `Access is read or write, not "${preview(String(input.access))}".`,
      );
    const scope = parseScope(input.scope, {
      key: `token:${name}`,
      allowed: ['global', 'env', 'guild'],
      environments,
    });
    const ttl = input.ttlMs ?? undefined;
    if (ttl !== undefined && !(ttl >= TOKEN_TTL_MIN_MS && ttl <= TOKEN_TTL_MAX_MS))
      throw new UserError(
        'INVALID_VALUE',
        'A token expires after 1 hour at the earliest and 366 days at the latest.',
        {
          key: `token:${name}`,
        },
      );
    // A 40-bit id can collide, rarely: then try another one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const secret = randomBytes(32).toString('base64url');
      const record: ApiToken = {
        id: randomBytes(5).toString('hex'),
        name,
        access: input.access,
        sensitive: Boolean(input.sensitive),
        ...(scope === GLOBAL ? {} : { scope }),
        createdBy: { id: input.actor.id, tag: input.actor.tag },
        createdAt: new Date(),
        ...(ttl !== undefined ? { expiresAt: new Date(Date.now() + ttl) } : {}),
      };
      if (await this.records.insert(record, sha256(secret)))
        return { token: `${TOKEN_PREFIX}${record.id}_${secret}`, record };
      if (await this.records.nameTaken(name))
        throw new UserError(
          'CONFLICT',
          `A token named ${name} exists already. Revoke it first, or choose another name.`,
          { key: `token:${name}` },
        );
    }
    throw new Error('Could not find a free token id in 3 attempts');
  }

  /**
   * The active token `raw` is, or undefined for anything else (missing, malformed, unknown, wrong
   * secret, revoked, expired); never throws for what a client sends. Database errors propagate.
   */
  async verify(raw: string | undefined): Promise<ApiToken | undefined> {
    const parsed = parseTokenText(raw);
    if (!parsed) return undefined;
    const found = await this.findActive(parsed.id);
    return found && secretMatches(parsed.secret, found.hash) && !isExpired(found.token)
      ? found.token
      : undefined;
  }

  /** An active (not revoked) token by id, with its hash; expired ones included. */
  findActive(id: string): Promise<TokenRecord | undefined> {
    return this.records.findActive(id);
  }

  /** Every active (not revoked) token with its hash, in one read (expired ones included). */
  activeRecords(): Promise<TokenRecord[]> {
    return this.records.activeRecords();
  }

  /**
   * Records that a token was used, at most once a minute per token (this process); never waits
   * and never throws: a failure is logged as a warning.
   */
  touch(id: string): void {
    const now = Date.now();
    const last = this.touched.get(id);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    this.touched.set(id, now);
    if (this.touched.size > 10_000) this.forgetOld(now);
    const write = this.records
      .touch(id, new Date(now))
      .then(
        () => undefined,
        (err: unknown) => {
          this.touched.delete(id);
          logger.warn(`Could not record the use of API token ${id}`, errorDetail(err));
        },
      )
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  /** Waits for the lastUsedAt writes under way (shutdown, tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.writes]);
  }

  /** The active tokens, newest first. */
  list(): Promise<ApiToken[]> {
    return this.records.list();
  }

  /** Revokes the active token named `name`; UserError UNKNOWN_KEY when there is none. */
  async revoke(name: string, actor: Actor): Promise<ApiToken> {
    // A name is only ever a string here: anything else (an operator object) must not reach the query.
    const revoked =
      typeof name === 'string' ? await this.records.revoke(name.trim().toLowerCase(), actor) : undefined;
    if (!revoked)
      throw new UserError('UNKNOWN_KEY', `No active token is named ${preview(String(name))}.`, {
        key: `token:${String(name)}`,
      });
    return revoked;
  }

  private forgetOld(now: number): void {
    for (const [id, at] of this.touched) if (now - at >= TOUCH_INTERVAL_MS) this.touched.delete(id);
  }
}

/**
 * A token's secret is 256 random bits, so a fast unsalted hash is enough: there is no dictionary
 * to try and brute force is out of reach, and verifying costs one hash per request (a slow
 * password hash like scrypt would only slow every API call down).
 */
function sha256(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function checkName(input: string): string {
  const name = String(input ?? '').trim();
  if (!TOKEN_NAME.test(name))
    throw new UserError(
      'INVALID_VALUE',
      `"${preview(name)}" is not a token name: use 2-32 lower-case letters, digits, - or _ (e.g. ci-deploy).`,
      { key: 'token' },
    );
  return name;
}
