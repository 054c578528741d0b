import type { Actor } from './config-models.js';
import type { DbConnection } from './connection.js';
import { insertIfAbsent } from './insert-once.js';

/** What a panel user may do: the bot's own access levels. */
export type PanelAccess = 'read' | 'write';

/** How a panel user proved who they are. */
export type PanelVia = 'link' | 'local' | 'oauth';

/** Who a login link or a session is for, as the bot's access rule judged them when it was made. */
export interface PanelIdentity {
  user: Actor;
  /** The Discord server the user came from (the link's server, a guild of OAuth); null: none. */
  guildId: string | null;
  access: PanelAccess;
  /** A self-service admin's own scope (`guild:<id>`): every write is confined to it. */
  ownScope: string | null;
  via: PanelVia;
}

export interface LoginLinkDoc extends PanelIdentity {
  /** sha256 of the link's secret, hex. */
  _id: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface PanelSessionDoc extends PanelIdentity {
  /** sha256 of the session id the cookie holds, hex. */
  _id: string;
  /** The form token every state-changing request of this session must carry. */
  csrf: string;
  createdAt: Date;
  /** Last request (written at most once a minute); idle expiry counts from it. */
  seenAt: Date;
  /** Absolute expiry. */
  expiresAt: Date;
}

/**
 * The panel's login links and sessions (`panel_login_links`, `panel_login_uses`,
 * `panel_sessions`). Only hashes of secrets are stored. A link is used once: using it is an
 * insert into `panel_login_uses` under the link's id, the one write MongoDB and FerretDB both
 * arbitrate atomically, so two browsers racing with one link get one session.
 */
export class PanelSessionRecords {
  private indexes: Promise<void> | undefined;

  constructor(private readonly conn: DbConnection) {}

  /** TTL indexes so expired documents go by themselves on MongoDB; expiry is also checked on read. */
  ensureIndexes(): Promise<void> {
    this.indexes ??= (async () => {
      for (const c of [this.links(), this.sessions()])
        await c.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
      await this.uses().createIndex({ at: 1 }, { expireAfterSeconds: 24 * 3600 });
    })();
    return this.indexes;
  }

  async addLink(doc: LoginLinkDoc): Promise<void> {
    await this.links().insertOne(doc);
  }

  /** The link if it exists and is unexpired at `now` (used or not). */
  async findLink(hash: string, now: Date): Promise<LoginLinkDoc | undefined> {
    const doc = await this.links().findOne({ _id: hash });
    return doc && doc.expiresAt > now ? doc : undefined;
  }

  /** Marks the link used; true for the one caller that did. */
  useLink(hash: string, now: Date): Promise<boolean> {
    return insertIfAbsent(this.uses(), { _id: hash, at: now });
  }

  async wasUsed(hash: string): Promise<boolean> {
    return (await this.uses().countDocuments({ _id: hash }, { limit: 1 })) > 0;
  }

  async addSession(doc: PanelSessionDoc): Promise<void> {
    await this.sessions().insertOne(doc);
  }

  async findSession(hash: string): Promise<PanelSessionDoc | undefined> {
    return (await this.sessions().findOne({ _id: hash })) ?? undefined;
  }

  async touchSession(hash: string, at: Date): Promise<void> {
    await this.sessions().updateOne({ _id: hash }, { $set: { seenAt: at } });
  }

  async deleteSession(hash: string): Promise<void> {
    await this.sessions().deleteOne({ _id: hash });
  }

  /** Ends every session of a user (a revoked admin), returning how many. */
  async deleteSessionsOf(userId: string): Promise<number> {
    return (await this.sessions().deleteMany({ 'user.id': userId })).deletedCount;
  }

  private links() {
    return this.conn.collection<LoginLinkDoc>('panel_login_links');
  }

  private uses() {
    return this.conn.collection<{ _id: string; at: Date }>('panel_login_uses');
  }

  private sessions() {
    return this.conn.collection<PanelSessionDoc>('panel_sessions');
  }
}
