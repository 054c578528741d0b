import { Schema, type Model } from 'mongoose';
import type { Actor } from './config-models.js';
import type { DbConnection } from './connection.js';
import { insertIfAbsent } from './insert-once.js';

export const TOKEN_ACCESS = ['read', 'write'] as const;
export type TokenAccess = (typeof TOKEN_ACCESS)[number];

/** A token as everyone but its holder sees it: never its secret, nor the hash of it. */
export interface ApiToken {
  id: string;
  name: string;
  access: TokenAccess;
  /** May read sensitive values in clear (read tokens get them masked otherwise). */
  sensitive: boolean;
  /** `env:<name>` or `guild:<id>`; absent: every scope. */
  scope?: string;
  createdBy: Actor;
  createdAt: Date;
  lastUsedAt?: Date;
  /** When the token stops working by itself (absent: never). */
  expiresAt?: Date;
  revokedAt?: Date;
  revokedBy?: Actor;
}

/** An active token with the hash its secret is checked against (what the API keeps in memory). */
export interface TokenRecord {
  token: ApiToken;
  /** sha256 of the secret, hex. */
  hash: string;
}

interface TokenDoc extends Omit<ApiToken, 'id'> {
  _id: string;
  /**
   * The name while the token is active, `<name>#<id>` once revoked: a unique index on it makes
   * "one active token per name" hold across concurrent creations, and frees the name on revoke.
   */
  nameKey: string;
  /** sha256 of the secret, hex. */
  hash: string;
}

const actorSchema = new Schema<Actor>(
  { id: { type: String, required: true }, tag: { type: String, required: true } },
  { _id: false },
);

const tokenSchema = new Schema<TokenDoc>(
  {
    _id: { type: String },
    name: { type: String, required: true },
    nameKey: { type: String, required: true },
    hash: { type: String, required: true },
    access: { type: String, enum: TOKEN_ACCESS, required: true },
    sensitive: { type: Boolean, required: true },
    scope: { type: String },
    createdBy: { type: actorSchema, required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date },
    expiresAt: { type: Date },
    revokedAt: { type: Date },
    revokedBy: { type: actorSchema },
  },
  { versionKey: false, bufferCommands: false, strict: 'throw', collection: 'api_tokens' },
);
tokenSchema.index({ nameKey: 1 }, { unique: true });

/**
 * The API tokens (`api_tokens`). Only a hash of each secret is stored. At most one active token
 * has a name (a unique index), and revoking a token frees its name.
 */
export class TokenRecords {
  private readonly model: Model<TokenDoc>;
  private indexes: Promise<void> | undefined;

  constructor(conn: DbConnection) {
    this.model = (conn.models.ApiToken ?? conn.model('ApiToken', tokenSchema)) as Model<TokenDoc>;
  }

  /** Creates the unique index names depend on (the connection creates none by itself). */
  init(): Promise<void> {
    this.indexes ??= this.model.createIndexes().then(
      () => undefined,
      (err: unknown) => {
        this.indexes = undefined;
        throw err;
      },
    );
    return this.indexes;
  }

  /**
   * Stores a new active token; false when its id or its name is taken (`nameTaken` tells which).
   */
  async insert(
    token: Omit<ApiToken, 'revokedAt' | 'revokedBy' | 'lastUsedAt'>,
    hash: string,
  ): Promise<boolean> {
    await this.init();
    const { id, ...rest } = token;
    return insertIfAbsent(this.model, { _id: id, ...rest, nameKey: token.name, hash });
  }

  /** Whether an active token has this name. */
  async nameTaken(name: string): Promise<boolean> {
    return Boolean(await this.model.exists({ nameKey: name }));
  }

  /** An active (not revoked) token by id, with its hash; expired ones included. */
  async findActive(id: string): Promise<TokenRecord | undefined> {
    const doc = await this.model.findById(id).lean<TokenDoc>();
    return doc && !doc.revokedAt ? { token: toToken(doc), hash: doc.hash } : undefined;
  }

  /** Every active (not revoked) token with its hash, in one read (expired ones included). */
  async activeRecords(): Promise<TokenRecord[]> {
    const docs = await this.model.find({ revokedAt: { $exists: false } }).lean<TokenDoc[]>();
    return docs.map((doc) => ({ token: toToken(doc), hash: doc.hash }));
  }

  /** The active tokens, newest first. */
  async list(): Promise<ApiToken[]> {
    const docs = await this.model
      .find({ revokedAt: { $exists: false } })
      .sort({ createdAt: -1 })
      .lean<TokenDoc[]>();
    return docs.map(toToken);
  }

  /** Records that an active token was used at `at`. */
  async touch(id: string, at: Date): Promise<void> {
    await this.model.updateOne({ _id: id, revokedAt: { $exists: false } }, { $set: { lastUsedAt: at } });
  }

  /**
   * Revokes the active token named `name` (its name is freed); undefined when there is none, or
   * a concurrent revoke got there first.
   */
  async revoke(name: string, actor: Actor, revokedAt = new Date()): Promise<ApiToken | undefined> {
    const doc = await this.model.findOne({ nameKey: name, revokedAt: { $exists: false } }).lean<TokenDoc>();
    if (!doc) return undefined;
    const revokedBy = { id: actor.id, tag: actor.tag };
    // Conditional on still being active: of two concurrent revokes, one wins.
    const res = await this.model.updateOne(
      { _id: doc._id, revokedAt: { $exists: false } },
      { $set: { revokedAt, revokedBy, nameKey: `${doc.name}#${doc._id}` } },
    );
    return res.modifiedCount === 1 ? toToken({ ...doc, revokedAt, revokedBy }) : undefined;
  }
}

function toToken(doc: TokenDoc): ApiToken {
  return {
    id: doc._id,
    name: doc.name,
    access: doc.access,
    sensitive: doc.sensitive,
    ...(doc.scope ? { scope: doc.scope } : {}),
    createdBy: { id: doc.createdBy.id, tag: doc.createdBy.tag },
    createdAt: doc.createdAt,
    ...(doc.lastUsedAt ? { lastUsedAt: doc.lastUsedAt } : {}),
    ...(doc.expiresAt ? { expiresAt: doc.expiresAt } : {}),
    ...(doc.revokedAt ? { revokedAt: doc.revokedAt } : {}),
    ...(doc.revokedBy ? { revokedBy: { id: doc.revokedBy.id, tag: doc.revokedBy.tag } } : {}),
  };
}
