import { createHash, randomBytes } from 'node:crypto';
import type { DbConnection } from '../storage/connection.js';
import { PanelSessionRecords, type PanelIdentity, type PanelSessionDoc } from '../storage/panel-sessions.js';

export type { PanelAccess, PanelIdentity, PanelSessionDoc, PanelVia } from '../storage/panel-sessions.js';

/** How long a one-time login link works. */
export const LOGIN_LINK_TTL_MS = 5 * 60_000;

/** How often a session's last request is written (idle expiry is that precise). */
const TOUCH_EVERY_MS = 60_000;

export interface SessionTimes {
  /** A session unused for this long ends. */
  idleMs: number;
  /** A session ends this long after login, used or not. */
  maxMs: number;
}

/** A link's or session's secret: 32 random bytes, base64url (43 characters). */
const SECRET = /^[A-Za-z0-9_-]{43}$/;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const secret = (): string => randomBytes(32).toString('base64url');

/** Why a login link was refused; the page says it in plain words. */
export type LinkRefusal = 'unknown' | 'used';

/**
 * One-time login links and the sessions they open. A link (from `/config panel`, the console,
 * or the first run's local admin) works once, within 5 minutes; the session it opens lives in
 * the database (its id hashed), ends when idle for `idleMs` or `maxMs` after login, and on logout.
 */
export class PanelLogins {
  private readonly records: PanelSessionRecords;

  constructor(
    conn: DbConnection,
    private readonly times: SessionTimes,
  ) {
    this.records = new PanelSessionRecords(conn);
  }

  ensureIndexes(): Promise<void> {
    return this.records.ensureIndexes();
  }

  /** A new link for `identity` under `baseUrl` (the panel's public address). */
  async createLink(identity: PanelIdentity, baseUrl: string): Promise<{ url: string; expiresAt: Date }> {
    const text = secret();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + LOGIN_LINK_TTL_MS);
    await this.records.addLink({ _id: sha256(text), ...identity, createdAt: now, expiresAt });
    return { url: `${baseUrl.replace(/\/+$/, '')}/panel/login/${text}`, expiresAt };
  }

  /** Whether a link can still be used (the login page asks before it uses it). */
  async checkLink(text: string): Promise<PanelIdentity | LinkRefusal> {
    if (!SECRET.test(text)) return 'unknown';
    const hash = sha256(text);
    const link = await this.records.findLink(hash, new Date());
    if (!link) return 'unknown';
    if (await this.records.wasUsed(hash)) return 'used';
    return identityOf(link);
  }

  /** Uses the link once: a new session and its cookie id, or why not. */
  async redeem(text: string): Promise<{ id: string; session: PanelSessionDoc } | LinkRefusal> {
    const checked = await this.checkLink(text);
    if (typeof checked === 'string') return checked;
    if (!(await this.records.useLink(sha256(text), new Date()))) return 'used';
    return this.open(checked);
  }

  /** A new session for someone whose identity was checked another way (Discord OAuth2). */
  async open(identity: PanelIdentity): Promise<{ id: string; session: PanelSessionDoc }> {
    const now = new Date();
    const id = secret();
    const session: PanelSessionDoc = {
      _id: sha256(id),
      ...identityOf(identity),
      csrf: secret(),
      createdAt: now,
      seenAt: now,
      expiresAt: new Date(now.getTime() + this.times.maxMs),
    };
    await this.records.addSession(session);
    return { id, session };
  }

  /**
   * The live session a cookie names, or undefined (unknown, idle too long, past its end).
   * `touch: false` checks without counting as use (an open live stream must not keep it alive).
   */
  async session(
    id: string | undefined,
    { touch = true }: { touch?: boolean } = {},
  ): Promise<PanelSessionDoc | undefined> {
    if (!id || !SECRET.test(id)) return undefined;
    const hash = sha256(id);
    const session = await this.records.findSession(hash);
    if (!session) return undefined;
    const now = Date.now();
    if (session.expiresAt.getTime() <= now || session.seenAt.getTime() + this.times.idleMs <= now) {
      await this.records.deleteSession(hash);
      return undefined;
    }
    if (touch && now - session.seenAt.getTime() >= TOUCH_EVERY_MS)
      await this.records.touchSession(hash, new Date(now));
    return session;
  }

  async logout(id: string | undefined): Promise<void> {
    if (id && SECRET.test(id)) await this.records.deleteSession(sha256(id));
  }
}

function identityOf(doc: PanelIdentity): PanelIdentity {
  return { user: doc.user, guildId: doc.guildId, access: doc.access, ownScope: doc.ownScope, via: doc.via };
}
