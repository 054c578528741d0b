import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { jsonObject } from '../../src/config/kinds.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';
import { ConfigService } from '../../src/config/service.js';
import { actor, openTestDb } from '../helpers/db.js';
import { displayed, startBot } from '../helpers/discord.js';

const field = (embed: { fields?: { name: string; value: string }[] } | undefined, name: string) =>
  displayed(embed?.fields?.find((f) => f.name === name)?.value);

/** The shipped keys plus RETRY_POLICY, a JSON object. */
function registryWithJson() {
  const defs: Record<string, KeyDefinition> = Object.fromEntries(registry);
  defs.RETRY_POLICY = {
    ...jsonObject(
      z.object({
        retries: z.number().int(),
        backoff: z.object({ base: z.number(), max: z.number().optional() }),
        mode: z.string().optional(),
      }),
    ),
    category: 'system',
    description: 'How failed exports are retried',
    default: { retries: 3, backoff: { base: 100 }, mode: 'linear' },
    sensitive: false,
    requiresRestart: false,
  } as KeyDefinition;
  return buildRegistry(defs);
}

/** A bot over a database of this test's own, able to store sensitive values (it has a key). */
async function bot(label: string) {
  const db = await openTestDb(label);
  const svc = new ConfigService({
    registry: registryWithJson(),
    conn: db.conn,
    encryptionKeys: [randomBytes(32)],
  });
  await svc.init();
  const b = await startBot(svc);
  onTestFinished(async () => {
    await b.close();
    await svc.close();
    await db.drop();
  });
  return { svc, session: b.session() };
}

describe('/config diff', () => {
  it('lists the added, removed and changed fields of a JSON object, with old and new values', async () => {
    const { svc, session } = await bot('diff_json');
    await svc.set('RETRY_POLICY', '{"retries":5,"backoff":{"base":100,"max":900}}', actor());
    const [defer, reply] = await session.run('/config diff setting:RETRY_POLICY from:1 to:2');
    expect(defer?.kind).toBe('defer');
    const embed = reply?.embeds[0];
    expect(embed?.title).toBe('Diff of RETRY_POLICY: v1 → v2');
    expect(field(embed, 'Added (1)')).toBe('+ `backoff.max` = `900`');
    expect(field(embed, 'Removed (1)')).toBe('- `mode` (was `"linear"`)');
    expect(field(embed, 'Changed (1)')).toBe('~ `retries`: `3` → `5`');
  });

  it('shows old → new for a number, and compares the newest with the one before by default', async () => {
    const { svc, session } = await bot('diff_number');
    await svc.set('MAX_BATCH_SIZE', '250', actor());
    await svc.set('MAX_BATCH_SIZE', '400', actor());
    const [, reply] = await session.run('/config diff setting:MAX_BATCH_SIZE');
    expect(reply?.embeds[0]?.title).toBe('Diff of MAX_BATCH_SIZE: v2 → v3');
    expect(field(reply?.embeds[0], 'Change')).toBe('`250` → `400`');
    const [, wide] = await session.run('/config diff setting:MAX_BATCH_SIZE from:1');
    expect(wide?.embeds[0]?.title).toBe('Diff of MAX_BATCH_SIZE: v1 → v3');
    expect(displayed(wide?.embeds[0]?.description)).toMatch(/1 version in between/);
    expect(field(wide?.embeds[0], 'Change')).toBe('`100` → `400`');
  });

  it('refuses unknown versions, from after to, and a key with nothing to compare, saying why', async () => {
    const { svc, session } = await bot('diff_refusals');
    const refusal = async (line: string) => {
      const [, reply] = await session.run(line);
      expect(reply?.embeds[0]?.title).toBe('Not done');
      return displayed(reply?.embeds[0]?.description);
    };
    expect(await refusal('/config diff setting:MAX_BATCH_SIZE')).toBe(
      'MAX_BATCH_SIZE has no version before version 1: there is nothing to compare it with.',
    );
    await svc.set('MAX_BATCH_SIZE', '250', actor());
    expect(await refusal('/config diff setting:MAX_BATCH_SIZE from:1 to:9')).toBe(
      'MAX_BATCH_SIZE has no version 9. Its newest is version 2.',
    );
    expect(await refusal('/config diff setting:MAX_BATCH_SIZE from:2 to:1')).toBe(
      'from must be an earlier version than to; got from:2 to:1. Give the older version as from.',
    );
    expect(await refusal('/config diff setting:MAX_BATCH_SIZE from:2')).toBe(
      'from must be an earlier version than the newest (version 2); got from:2.',
    );
  });

  it('never shows a sensitive value, not even in a diff', async () => {
    const { svc, session } = await bot('diff_sensitive');
    await svc.set('EXPORT_WEBHOOK_URL', 'https://hooks.example.com/one-secret', actor());
    await svc.set('EXPORT_WEBHOOK_URL', 'https://hooks.example.com/two-secret', actor());
    const [, reply] = await session.run('/config diff setting:EXPORT_WEBHOOK_URL');
    expect(field(reply?.embeds[0], 'Value')).toBe('changed (a sensitive value is never shown)');
    const [, first] = await session.run('/config diff setting:EXPORT_WEBHOOK_URL from:1 to:2');
    expect(JSON.stringify([reply, first])).not.toMatch(/secret|hooks/);
    const [, history] = await session.run('/config history setting:EXPORT_WEBHOOK_URL');
    expect(JSON.stringify(history)).not.toMatch(/secret|hooks/);
    expect(history?.embeds[0]?.fields?.[0]?.value).toMatch(/^changed\n/);
  });

  it('offers the versions of the key as from and to', async () => {
    const { svc, session } = await bot('diff_complete');
    await svc.set('MAX_BATCH_SIZE', '250', actor());
    const choices = await session.complete('/config diff setting:MAX_BATCH_SIZE from:');
    expect(choices.map((c) => c.value)).toEqual([2, 1]);
    const to = await session.complete('/config diff setting:MAX_BATCH_SIZE from:1 to:2');
    expect(to.map((c) => c.value)).toEqual([2]);
  });
});

describe('/config history', () => {
  it('says on each version what it changed', async () => {
    const { svc, session } = await bot('history_diffs');
    await svc.set('RETRY_POLICY', '{"retries":5,"backoff":{"base":100,"max":900}}', actor());
    await svc.set('MAX_BATCH_SIZE', '250', actor());
    const [, json] = await session.run('/config history setting:RETRY_POLICY');
    const first = (reply: typeof json, n: number) =>
      displayed(reply?.embeds[0]?.fields?.[n]?.value).split('\n')[0];
    expect(first(json, 0)).toBe('+backoff.max, -mode, ~retries: 3 → 5');
    expect(first(json, 1)).toBe('{"retries":3,"backoff":{"base":100},"mode":"linear"}');
    const [, number] = await session.run('/config history setting:MAX_BATCH_SIZE');
    expect(first(number, 0)).toBe('100 → 250');
    expect(first(number, 1)).toBe('100');
  });

  it('says what the bottom version of a page changed from the version below the page', async () => {
    const { svc, session } = await bot('history_page_diff');
    for (const n of [200, 300, 400]) await svc.set('MAX_BATCH_SIZE', String(n), actor());
    const [, reply] = await session.run('/config history setting:MAX_BATCH_SIZE limit:2');
    const lines = reply?.embeds[0]?.fields?.map((f) => displayed(f.value).split('\n')[0]);
    expect(lines).toEqual(['300 → 400', '200 → 300']);
  });
});
