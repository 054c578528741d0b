import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_PREFIX, TokenStore, type CreateTokenInput } from '../../src/tokens/tokens.js';
import { UserError } from '../../src/base/errors.js';
import { actor, openTestDb, type TestDb } from '../helpers/db.js';
import { captureLogs } from '../helpers/logs.js';

const ENVIRONMENTS = ['production', 'staging'];
const alice = actor();
const bob = actor('222222222222222222', 'bob');

let db: TestDb;
let tokens: TokenStore;
beforeAll(async () => {
  db = await openTestDb('api_tokens');
  tokens = new TokenStore(db.conn);
  await tokens.init();
});
afterAll(async () => {
  await tokens.settle();
  await db.drop();
});

const create = (input: Partial<CreateTokenInput> & { name: string }) =>
  tokens.create({ access: 'read', actor: alice, ...input }, ENVIRONMENTS);

/** The refusal a call ends in (a test fails when it succeeds or throws anything else). */
async function refusal(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  if (!(err instanceof UserError)) throw err;
  return err;
}

const raw = () => db.conn.collection('api_tokens').find().toArray();
const secretOf = (token: string) => token.slice(TOKEN_PREFIX.length + 11);

describe('TokenStore', () => {
  it('creates a cfgbot_ token that verifies, and lists it without anything secret', async () => {
    const { token, record } = await create({ name: 'ci-read' });
    expect(token).toMatch(/^cfgbot_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(`${TOKEN_PREFIX}${record.id}_`)).toBe(true);
    expect(record).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{10}$/),
      name: 'ci-read',
      access: 'read',
      sensitive: false,
      createdBy: alice,
      createdAt: expect.any(Date),
    });
    expect(await tokens.verify(token)).toEqual(record);
    const listed = (await tokens.list()).find((t) => t.name === 'ci-read');
    expect(listed).toEqual(record);
    expect(Object.keys(listed ?? {})).not.toContain('hash');
  });

  it('stores only the sha256 of the secret: neither the token nor its secret is anywhere in the collection', async () => {
    const { token, record } = await create({ name: 'stored-hash', access: 'write', sensitive: true });
    const docs = await raw();
    const text = JSON.stringify(docs);
    expect(text).not.toContain(secretOf(token));
    expect(text).not.toContain(token);
    const doc = docs.find((d) => d._id === (record.id as never));
    expect(doc?.hash).toBe(createHash('sha256').update(secretOf(token)).digest('hex'));
  });

  it('refuses a wrong secret, another id and malformed strings, without throwing', async () => {
    const { token } = await create({ name: 'probe-me' });
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    const other = `${TOKEN_PREFIX}0123456789_${secretOf(token)}`;
    const malformed: (string | undefined)[] = [
      undefined,
      '',
      'cfgbot_',
      `Bearer ${token}`,
      ` ${token}`,
      `${token}x`,
      token.slice(0, -1),
      token.toUpperCase(),
      token.replace('cfgbot_', 'cfgbot-'),
      'cfgbot_zzzzzzzzzz_' + 'a'.repeat(43),
      'x'.repeat(10_000),
      '\u0000'.repeat(61),
    ];
    expect(await tokens.verify(token.slice(0, -1) + last)).toBeUndefined();
    expect(await tokens.verify(other)).toBeUndefined();
    for (const text of malformed) expect(await tokens.verify(text), String(text)).toBeUndefined();
    expect(await tokens.verify(42 as unknown as string)).toBeUndefined();
    expect(await tokens.verify(token)).toBeDefined();
  });

  it('revokes by name: the token is refused and no longer listed; a second revoke names the name', async () => {
    const { token } = await create({ name: 'short-lived' });
    const revoked = await tokens.revoke('short-lived', bob);
    expect(revoked).toMatchObject({ name: 'short-lived', revokedBy: bob, revokedAt: expect.any(Date) });
    expect(await tokens.verify(token)).toBeUndefined();
    expect((await tokens.list()).map((t) => t.name)).not.toContain('short-lived');
    const again = await refusal(tokens.revoke('short-lived', bob));
    expect(again.code).toBe('UNKNOWN_KEY');
    expect(again.message).toBe('No active token is named short-lived.');
  });

  it('revokes nothing when given something other than a name (an operator object from a request)', async () => {
    const { token } = await create({ name: 'not-an-operator' });
    const err = await refusal(tokens.revoke({ $ne: null } as unknown as string, bob));
    expect(err.code).toBe('UNKNOWN_KEY');
    expect(await tokens.verify(token)).toBeDefined();
  });

  it('refuses a name an active token has, even when asked concurrently, and allows it again after revoke', async () => {
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => create({ name: 'deploy' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONFLICT' });
    const dup = await refusal(create({ name: 'deploy' }));
    expect(dup.message).toMatch(/^A token named deploy exists already/);

    await tokens.revoke('deploy', alice);
    const { token } = await create({ name: 'deploy', access: 'write' });
    expect((await tokens.verify(token))?.access).toBe('write');
    expect((await tokens.list()).filter((t) => t.name === 'deploy')).toHaveLength(1);
  });

  it('lists active tokens newest first', async () => {
    await create({ name: 'older' });
    await new Promise((r) => setTimeout(r, 5));
    await create({ name: 'newer' });
    const names = (await tokens.list()).map((t) => t.name);
    expect(names.indexOf('newer')).toBeLessThan(names.indexOf('older'));
  });

  it.each([
    ['A', /"A" is not a token name: use 2-32 lower-case letters, digits, - or _/],
    ['Deploy', /"Deploy" is not a token name/],
    ['has space', /"has space" is not a token name/],
    ['x'.repeat(33), /is not a token name/],
    ['', /is not a token name/],
  ])('refuses the name %j, saying what a name is, and stores nothing', async (name, message) => {
    const before = (await raw()).length;
    const err = await refusal(create({ name }));
    expect(err.code).toBe('INVALID_VALUE');
    expect(err.message).toMatch(message);
    expect((await raw()).length).toBe(before);
  });

  it('limits a token to a declared environment or a server, and refuses any other scope', async () => {
    expect((await create({ name: 'env-scoped', scope: 'env:staging' })).record.scope).toBe('env:staging');
    expect((await create({ name: 'guild-scoped', scope: 'guild:900000000000000001' })).record.scope).toBe(
      'guild:900000000000000001',
    );
    expect((await create({ name: 'everywhere', scope: 'global' })).record.scope).toBeUndefined();
    expect((await create({ name: 'unscoped', scope: null })).record.scope).toBeUndefined();

    const typo = await refusal(create({ name: 'typo', scope: 'env:stagin' }));
    expect(typo).toMatchObject({ code: 'INVALID_VALUE' });
    expect(typo.message).toMatch(/"stagin" is not a declared environment.*Did you mean env:staging\?/);
    expect((await refusal(create({ name: 'badguild', scope: 'guild:123' }))).message).toMatch(
      /"123" is not a Discord server id/,
    );
    expect((await refusal(create({ name: 'nonsense', scope: 'everything' }))).message).toMatch(
      /"everything" is not a scope/,
    );
    expect((await raw()).map((d) => d.name)).not.toContain('typo');
  });

  it('records the last use at most once a minute per token', async () => {
    const { token, record } = await create({ name: 'touched' });
    const used = await tokens.verify(token);
    expect(used?.lastUsedAt).toBeUndefined();
    tokens.touch(record.id);
    await tokens.settle();
    const first = (await tokens.verify(token))?.lastUsedAt;
    expect(first).toBeInstanceOf(Date);

    // Within the minute, a second use writes nothing: the stored time stays as it is.
    const old = new Date('2020-01-01T00:00:00Z');
    await db.conn
      .collection('api_tokens')
      .updateOne({ _id: record.id as never }, { $set: { lastUsedAt: old } });
    tokens.touch(record.id);
    await tokens.settle();
    expect((await tokens.verify(token))?.lastUsedAt).toEqual(old);
  });

  it('logs a warning, and throws nothing, when the last use cannot be written', async () => {
    const gone = await openTestDb('api_tokens_gone');
    const store = new TokenStore(gone.conn);
    await gone.drop();
    const logs = captureLogs();
    try {
      store.touch('0123456789');
      await store.settle();
    } finally {
      logs.stop();
    }
    const warned = logs.lines
      .map((l) => JSON.parse(l) as { level: string; message: string })
      .filter((l) => l.message === 'Could not record the use of API token 0123456789');
    expect(warned).toEqual([expect.objectContaining({ level: expect.stringContaining('warn') })]);
  });
});
