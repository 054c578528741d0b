import { describe, expect, it, onTestFinished } from 'vitest';
import { RequestRecords, type RequestDoc, type RequestEvent } from '../../src/storage/requests.js';
import { actor, openTestDb, type TestDb } from '../helpers/db.js';

// Each once-only step and conditional status update of change requests, tried again when it was
// taken or its condition no longer holds: it must answer false and leave every record as it was.

const requester = actor('111111111111111111', 'req');
const admin = actor('222222222222222222', 'admin');
const other = actor('333333333333333333', 'other');
const t0 = new Date('2026-01-01T10:00:00.000Z');
const later = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
const event = (text: string, by = admin, at = t0): RequestEvent => ({ at, actor: by, text });

async function freshRecords(label: string): Promise<{ db: TestDb; records: RequestRecords }> {
  const db = await openTestDb(label);
  onTestFinished(() => db.drop());
  const records = new RequestRecords(db.conn);
  await records.ensureIndexes();
  return { db, records };
}

async function request(records: RequestRecords, id: string, fields: Partial<RequestDoc> = {}): Promise<void> {
  await records.insert({
    _id: id,
    kind: 'set',
    status: 'pending',
    requester,
    level: 'high',
    required: 2,
    changes: [],
    approvals: [],
    log: [event('created', requester)],
    rev: 1,
    createdAt: t0,
    expiresAt: later(60 * 24),
    preview: ['first preview'],
    ...fields,
  });
}

/** Every record of a request as stored: its document, its once-only records and its post. */
async function everything(db: TestDb, id: string) {
  const [doc, claims, post] = await Promise.all([
    db.conn.collection('config_change_requests').findOne({ _id: id as never }),
    db.conn.collection('config_change_request_claims').find().sort({ _id: 1 }).toArray(),
    db.conn.collection('config_change_request_posts').findOne({ _id: id as never }),
  ]);
  return { doc, claims, post };
}

describe('the post of a request (RequestRecords.claimPost)', () => {
  it('is claimed once per attempt: a second process gets false and the post stays the winner’s', async () => {
    const { db, records } = await freshRecords('req_post');
    await request(records, 'CR-POST1');
    expect(await records.claimPost('CR-POST1', 'channel-a', 1, t0)).toBe(true);
    const before = await everything(db, 'CR-POST1');
    expect(before.post).toMatchObject({ channelId: 'channel-a', messageId: '', attempt: 1 });
    expect(await records.claimPost('CR-POST1', 'channel-b', 1, later(1))).toBe(false);
    expect(await everything(db, 'CR-POST1')).toEqual(before);
  });
});

describe('what a post shows (RequestRecords.markShown)', () => {
  it('never moves back, and is not recorded before the post has a message', async () => {
    const { db, records } = await freshRecords('req_shown');
    await request(records, 'CR-SHOW1');
    expect(await records.claimPost('CR-SHOW1', 'channel-a', 1, t0)).toBe(true);
    await records.markShown('CR-SHOW1', 3);
    expect((await everything(db, 'CR-SHOW1')).post).not.toHaveProperty('shown');
    await records.posted('CR-SHOW1', { channelId: 'channel-a', messageId: 'm1', shown: 4 });
    const before = await everything(db, 'CR-SHOW1');
    await records.markShown('CR-SHOW1', 2);
    expect(await everything(db, 'CR-SHOW1')).toEqual(before);
    await records.markShown('CR-SHOW1', 5);
    expect((await everything(db, 'CR-SHOW1')).post).toMatchObject({ shown: 5 });
  });
});

describe('approvals (RequestRecords.addApproval)', () => {
  it('count once per admin and revision: the same admin again gets false and nothing changes', async () => {
    const { db, records } = await freshRecords('req_approve');
    await request(records, 'CR-APPR1');
    expect(await records.addApproval('CR-APPR1', 1, { actor: admin, at: t0 }, event('approved'))).toBe(true);
    const before = await everything(db, 'CR-APPR1');
    expect(
      await records.addApproval(
        'CR-APPR1',
        1,
        { actor: admin, at: later(1) },
        event('approved', admin, later(1)),
      ),
    ).toBe(false);
    expect(await everything(db, 'CR-APPR1')).toEqual(before);
    expect((await records.find('CR-APPR1'))?.approvals).toEqual([{ actor: admin, at: t0 }]);
  });

  it('of a revision that was replaced neither count for the new one nor reach its log', async () => {
    const { db, records } = await freshRecords('req_approve_rev');
    await request(records, 'CR-APPR2');
    expect(await records.revise('CR-APPR2', 1, [], ['second preview'], event('edited', requester))).toBe(
      true,
    );
    const doc = (await everything(db, 'CR-APPR2')).doc;
    // An admin who read revision 1 approves it after the edit.
    await records.addApproval(
      'CR-APPR2',
      1,
      { actor: admin, at: later(1) },
      event('approved', admin, later(1)),
    );
    expect((await everything(db, 'CR-APPR2')).doc).toEqual(doc);
    expect((await records.find('CR-APPR2'))?.approvals).toEqual([]);
  });
});

describe('closing a request (RequestRecords.close)', () => {
  it('happens once: a second close gets false, and the status and log stay the first one’s', async () => {
    const { db, records } = await freshRecords('req_close');
    await request(records, 'CR-CLOS1');
    expect(
      await records.close('CR-CLOS1', 'rejected', t0, { rejectReason: 'no' }, event('rejected: no')),
    ).toBe(true);
    const before = await everything(db, 'CR-CLOS1');
    // The last approval of a quorum, racing the reject.
    expect(
      await records.close('CR-CLOS1', 'applying', later(1), { applyingSince: later(1) }, event('applying')),
    ).toBe(false);
    expect(await everything(db, 'CR-CLOS1')).toEqual(before);
    expect((await records.find('CR-CLOS1'))?.status).toBe('rejected');
  });
});

describe('taking over an application (RequestRecords.takeOver)', () => {
  it('goes to one process: another that read the same start gets false and changes nothing', async () => {
    const { db, records } = await freshRecords('req_takeover');
    await request(records, 'CR-TAKE1');
    expect(await records.close('CR-TAKE1', 'applying', t0, { applyingSince: t0 }, event('applying'))).toBe(
      true,
    );
    expect(await records.takeOver('CR-TAKE1', t0, later(5))).toBe(true);
    const before = await everything(db, 'CR-TAKE1');
    expect(before.doc).toMatchObject({ applyingSince: later(5) });
    expect(await records.takeOver('CR-TAKE1', t0, later(6))).toBe(false);
    expect(await everything(db, 'CR-TAKE1')).toEqual(before);
  });

  it('never happens to a request that is not being applied', async () => {
    const { db, records } = await freshRecords('req_takeover_pending');
    await request(records, 'CR-TAKE2');
    const before = await everything(db, 'CR-TAKE2');
    expect(await records.takeOver('CR-TAKE2', undefined, later(5))).toBe(false);
    expect(await everything(db, 'CR-TAKE2')).toEqual(before);
  });
});

describe('revising a request (RequestRecords.revise)', () => {
  it('refuses a revision that is no longer the latest, and leaves the request untouched', async () => {
    const { db, records } = await freshRecords('req_revise');
    await request(records, 'CR-REVI1');
    expect(await records.revise('CR-REVI1', 1, [], ['second'], event('edited', requester))).toBe(true);
    const before = await everything(db, 'CR-REVI1');
    expect(before.doc).toMatchObject({ rev: 2, preview: ['second'] });
    expect(await records.revise('CR-REVI1', 1, [], ['stale'], event('edited again', other))).toBe(false);
    expect(await everything(db, 'CR-REVI1')).toEqual(before);
  });

  it('refuses to revise a request that was closed, and leaves it untouched', async () => {
    const { db, records } = await freshRecords('req_revise_closed');
    await request(records, 'CR-REVI2');
    expect(await records.close('CR-REVI2', 'withdrawn', t0, {}, event('withdrawn', requester))).toBe(true);
    const before = await everything(db, 'CR-REVI2');
    expect(await records.revise('CR-REVI2', 1, [], ['late edit'], event('edited', requester))).toBe(false);
    expect(await everything(db, 'CR-REVI2')).toEqual(before);
  });
});
