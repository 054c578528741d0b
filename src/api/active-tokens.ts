import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { isUnavailableError } from '../storage/connection.js';
import { DatabaseUnavailableError } from '../base/errors.js';
import { errorDetail, logger } from '../base/logger.js';
import { dataDirFix } from '../base/local-files.js';
import {
  isExpired,
  parseTokenText,
  secretMatches,
  type ApiToken,
  type TokenRecord,
  type TokenStore,
} from '../tokens/tokens.js';

/** Why a token stopped working while this process held it. */
export type TokenEnd = 'revoked' | 'expired';

/** Where the tokens this process checks against come from. */
export type TokenSource = 'database' | 'last-known-copy' | 'none';

export interface ActiveTokensOptions {
  /**
   * How often the active tokens are read again. A revocation made anywhere reaches this process
   * within it (plus one read), which must stay well under the 5 s the docs promise, a busy
   * database included. Default 1 s (one small read a second).
   */
  refreshMs?: number;
  /**
   * The last-known copy of the active tokens (ids and hashes, never a secret), so that an API
   * started while the database is unreachable still knows which tokens to accept.
   */
  copyFile?: string;
  /**
   * How long a token not held yet may wait for its lookup (DB_TIMEOUT_MS): a paused database must
   * not hold a request past it. Default 3 s.
   */
  lookupTimeoutMs?: number;
}

interface CopyFile {
  format: 1;
  savedAt: string;
  tokens: (Omit<ApiToken, 'createdAt' | 'lastUsedAt' | 'expiresAt'> & {
    hash: string;
    createdAt: string;
    expiresAt?: string;
  })[];
}

type EndListener = (id: string, why: TokenEnd) => void;

/**
 * The API's view of the active tokens: every one held in memory with its hash and read again every
 * `refreshMs`, so a request costs no database read, an outage does not lock valid tokens out, a
 * flood of bad tokens cannot make valid ones wait, and a token revoked or expired anywhere is
 * refused here, and its open streams told (onEnd), within seconds. A token too new to be held yet
 * is looked up once by id. Never throws from its timer.
 */
export class ActiveTokens {
  private byId = new Map<string, TokenRecord>();
  private source: TokenSource = 'none';
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<EndListener>();
  /** What the copy file holds, to write it only when the tokens changed. */
  private copied = '';
  private saving: Promise<void> = Promise.resolve();
  private stopped = false;
  /** A timer per held token that expires, so it ends at its time whatever the database does. */
  private readonly expiries = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: TokenStore,
    private readonly opts: ActiveTokensOptions = {},
  ) {}

  /** Reads the tokens (or, without a database, the last-known copy) and keeps them fresh. */
  async start(): Promise<void> {
    if (!(await this.refresh())) await this.loadCopy();
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const t of this.expiries.values()) clearTimeout(t);
    this.expiries.clear();
    this.listeners.clear();
    await this.saving;
  }

  /** Whether tokens can be checked, where they come from, and what to fix when they cannot. */
  get state(): { ready: boolean; source: TokenSource; problem?: string } {
    if (this.source !== 'none') return { ready: true, source: this.source };
    return {
      ready: false,
      source: 'none',
      problem:
        'API tokens cannot be checked: the database is unreachable and there is no last-known copy of the tokens yet',
    };
  }

  /** Calls `fn` when a token this process held is revoked or expires; returns the unsubscribe. */
  onEnd(fn: EndListener): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** Whether the token with this id is still active (for long-lived streams). */
  isActive(id: string): boolean {
    const held = this.byId.get(id);
    return held !== undefined && !isExpired(held.token);
  }

  /**
   * The active token `raw` is, or undefined for anything else. Throws DatabaseUnavailableError
   * only when a token is not held and can be neither looked up nor ruled out (no database and no
   * copy of the tokens).
   */
  async verify(raw: string | undefined): Promise<ApiToken | undefined> {
    const parsed = parseTokenText(raw);
    if (!parsed) return undefined;
    let record = this.byId.get(parsed.id);
    if (!record) {
      try {
        record = await boundedLookup(this.store.findActive(parsed.id), this.opts.lookupTimeoutMs ?? 3000);
      } catch (err) {
        if (!isUnavailableError(err)) throw err;
        // Held tokens are every active one as of the last read: one not among them is unknown.
        if (this.source !== 'none') return undefined;
        throw new DatabaseUnavailableError(
          String(errorDetail(err).error),
          'Database unavailable: this token cannot be checked right now. Try again in a moment.',
        );
      }
      // Held from now on; the next refresh confirms it (or drops it if it was revoked meanwhile).
      if (record) {
        this.byId.set(parsed.id, record);
        this.watchExpiry(record);
      }
    }
    if (!record || !secretMatches(parsed.secret, record.hash) || isExpired(record.token)) return undefined;
    return record.token;
  }

  /** Records that a token was used (lastUsedAt, at most once a minute; never waits). */
  touch(id: string): void {
    this.store.touch(id);
  }

  /** Reads every active token again; false when the database could not be read. */
  async refresh(): Promise<boolean> {
    let records: TokenRecord[];
    try {
      records = await this.store.activeRecords();
      if (this.stopped) return false;
    } catch (err) {
      if (!isUnavailableError(err)) logger.warn('Could not read the API tokens', errorDetail(err));
      // Through an outage the tokens held stay in force, but expiries still apply.
      this.dropExpired();
      return false;
    }
    const next = new Map(records.map((r) => [r.token.id, r]));
    const before = this.byId;
    this.byId = next;
    this.source = 'database';
    for (const id of before.keys()) if (!next.has(id)) this.ended(id, 'revoked');
    for (const r of records) this.watchExpiry(r);
    this.dropExpired();
    this.saveCopy();
    return true;
  }

  /** Ends a held token at its expiry, to the millisecond, without waiting for a read. */
  private watchExpiry(record: TokenRecord): void {
    const at = record.token.expiresAt?.getTime();
    const id = record.token.id;
    clearTimeout(this.expiries.get(id));
    this.expiries.delete(id);
    if (at === undefined || this.stopped) return;
    // Timers hold at most about 24.8 days: a later expiry is looked at again by a later refresh.
    const wait = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
    const timer = setTimeout(() => {
      this.expiries.delete(id);
      this.dropExpired();
    }, wait + 5);
    timer.unref();
    this.expiries.set(id, timer);
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [id, r] of this.byId)
      if (isExpired(r.token, now)) {
        this.byId.delete(id);
        this.ended(id, 'expired');
      }
  }

  private ended(id: string, why: TokenEnd): void {
    clearTimeout(this.expiries.get(id));
    this.expiries.delete(id);
    for (const fn of [...this.listeners]) {
      try {
        fn(id, why);
      } catch (err) {
        logger.error('A token-end listener failed', errorDetail(err));
      }
    }
  }

  private async loadCopy(): Promise<void> {
    const file = this.opts.copyFile;
    if (!file) return;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        logger.warn(`Could not read the last-known copy of the API tokens (${file})`, errorDetail(err));
      return;
    }
    try {
      const copy = JSON.parse(text) as CopyFile;
      if (copy.format !== 1 || !Array.isArray(copy.tokens)) throw new Error('not a token copy');
      this.byId = new Map(
        copy.tokens.map(({ hash, createdAt, expiresAt, ...t }) => [
          t.id,
          {
            hash,
            token: {
              ...t,
              createdAt: new Date(createdAt),
              ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}),
            },
          },
        ]),
      );
      this.source = 'last-known-copy';
      logger.warn(
        `API tokens checked against their last-known copy of ${copy.savedAt} until the database answers`,
      );
    } catch (err) {
      logger.warn(`The last-known copy of the API tokens (${file}) is unreadable; ignored`, errorDetail(err));
    }
  }

  /** Rewrites the copy when the tokens changed; owner-only, it holds hashes. */
  private saveCopy(): void {
    const file = this.opts.copyFile;
    if (!file) return;
    const tokens = [...this.byId.values()]
      .map(({ token, hash }) => ({
        id: token.id,
        name: token.name,
        access: token.access,
        sensitive: token.sensitive,
        ...(token.scope ? { scope: token.scope } : {}),
        createdBy: token.createdBy,
        createdAt: token.createdAt.toISOString(),
        ...(token.expiresAt ? { expiresAt: token.expiresAt.toISOString() } : {}),
        hash,
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const body = JSON.stringify(tokens);
    if (body === this.copied) return;
    this.copied = body;
    const text = JSON.stringify({ format: 1, savedAt: new Date().toISOString(), tokens } satisfies CopyFile);
    this.saving = this.saving
      .then(async () => {
        await writeFileAtomic(file, text, { mode: 0o600 });
        await chmod(file, 0o600);
      })
      .catch((err: unknown) => {
        logger.warn(
          `Could not save the last-known copy of the API tokens (${file}): ${dataDirFix(err, path.dirname(file))}`,
        );
        logger.debug('API token copy write failure', errorDetail(err));
      });
  }
}

/** The lookup, or a "cannot reach the database" error once `ms` have passed (the driver may wait longer). */
async function boundedLookup<T>(lookup: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(Object.assign(new Error(`no answer within ${ms} ms`), { name: 'MongoNetworkTimeoutError' })),
      ms,
    );
  });
  lookup.catch(() => undefined);
  try {
    return await Promise.race([lookup, late]);
  } finally {
    clearTimeout(timer);
  }
}
