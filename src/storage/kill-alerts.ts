import { Schema, type Model } from 'mongoose';
import type { DbConnection } from './connection.js';
import { insertIfAbsent } from './insert-once.js';

interface ClaimDoc {
  /** `<flag>@<version>`: the kill an alert is about. */
  _id: string;
  by: string;
  at: Date;
}

const claimSchema = new Schema<ClaimDoc>(
  { _id: { type: String }, by: { type: String, required: true }, at: { type: Date, required: true } },
  { versionKey: false, bufferCommands: false, collection: 'flag_kill_alerts' },
);

/**
 * `flag_kill_alerts`: who posts the alert of each automatic kill. However many bot processes hear
 * of a kill, the first to claim it (a unique insert) posts.
 */
export class KillAlertClaims {
  private readonly claims: Model<ClaimDoc>;

  constructor(conn: DbConnection) {
    this.claims = (conn.models.FlagKillAlert ?? conn.model('FlagKillAlert', claimSchema)) as Model<ClaimDoc>;
  }

  /** True when this process claimed version `version`'s kill of `name`, and so posts its alert. */
  claim(name: string, version: number, holder: string): Promise<boolean> {
    return insertIfAbsent(this.claims.collection, { _id: `${name}@${version}`, by: holder, at: new Date() });
  }
}
