import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSigningKeyText, parseSigningKey } from '../../src/audit/signing.js';
import type { ConfigService } from '../../src/config/service.js';
import { COLOR } from '../../src/discord/render.js';
import { actor, openService, openTestDb, type TestDb } from '../helpers/db.js';
import { as, CHANNEL, displayed, startBot, type Bot } from '../helpers/discord.js';

// /config audit verify and the Audit log field of /config status, through the real handlers
// behind an offline discord.js client, over a service that signs checkpoints.

const signing = parseSigningKey(newSigningKeyText());
const INJECTED = '[click](https://evil.example) **now** <@&123456789012345678>';
let db: TestDb;
let svc: ConfigService;
let bot: Bot;

beforeAll(async () => {
  db = await openTestDb('audit_verify_discord');
  svc = await openService(db, { auditKeys: { signing } });
  await svc.trail.begin();
  for (let i = 0; i < 3; i++) await svc.set('MAX_BATCH_SIZE', String(400 + i), actor());
  bot = await startBot(svc);
});
afterAll(async () => {
  await bot.close();
  await svc.close();
  await db.drop();
});

const rows = () => db.conn.collection('config_audit_logs');

/** The answer's embed (after the deferral). */
async function verify(line = '/config audit verify') {
  const replies = await bot.session().run(line);
  expect(replies.map((r) => r.kind)).toEqual(['defer', 'editReply']);
  const embed = replies[1]?.embeds[0];
  return { ...embed, text: displayed(embed?.description) };
}

const verifyRows = () => rows().find({ action: 'audit-verify' }).sort({ seq: 1 }).toArray();

// In order: the intact check runs before a row is edited.
describe('/config audit verify', () => {
  it('answers green "Audit log intact" with what it checked, and audits the check', async () => {
    const head = (await svc.trail.state()).headSeq;
    const embed = await verify();
    expect(embed.title).toBe('Audit log intact');
    expect(embed.color).toBe(COLOR.ok);
    expect(embed.text.split('\n')[0]).toBe(
      `Intact: checked the whole chain (${head} rows, 1 signed checkpoint).`,
    );
    expect(embed.text).toMatch(/The chain began \S+ with no earlier rows\./);
    const [audited] = await verifyRows();
    expect(audited).toMatchObject({
      key: '*',
      status: 'success',
      newValue: 'intact',
      actor: { id: as.admin().user.id },
      channelId: CHANNEL,
    });
    // A range past the end checks nothing, and says why (the first check's row is the newest).
    const past = await verify('/config audit verify from:999');
    expect(past.text.split('\n')[0]).toBe(
      `Intact: checked from row 999, past the chain's end at row ${head + 1} (0 rows, 1 signed checkpoint).`,
    );
  });

  it('answers red "Audit log altered" naming the edited row by place and id, an id as plain text', async () => {
    const victim = await rows().findOne({ seq: 4 });
    await rows().updateOne({ _id: victim!._id }, { $set: { newValue: 999 } });
    // A row written around the chain, its id chosen to format or ping.
    await rows().insertOne({
      _id: INJECTED as never,
      key: 'MAX_BATCH_SIZE',
      action: 'set',
      status: 'success',
      actor: actor(),
      createdAt: new Date(),
    });
    const embed = await verify();
    expect(embed.title).toBe('Audit log altered');
    expect(embed.color).toBe(COLOR.error);
    expect(embed.text.split('\n')[0]).toMatch(/^BROKEN: checked the whole chain/);
    expect(embed.text).toContain(
      `• row 4 (id ${String(victim!._id)}): content edited; it no longer matches the hash the chain recorded for it`,
    );
    // Shown as typed: no masked link, no mention, no bold.
    expect(embed.text).toContain(`• row id ${INJECTED}: inserted; it has no place in the chain`);
    expect(embed.description).not.toMatch(/(?<!\\)\[click\]\(/);
    expect(embed.description).not.toContain('**');
    expect(embed.description).not.toContain('<@&');
    expect((await verifyRows()).at(-1)).toMatchObject({ status: 'success', newValue: '2 breaks' });
  });

  it('refuses from after to in plain words, and audits the attempt as failed', async () => {
    const embed = await verify('/config audit verify from:5 to:2');
    expect(embed.color).toBe(COLOR.error);
    expect(embed.text).toContain('from (5) is after to (2): nothing was checked.');
    expect((await verifyRows()).at(-1)).toMatchObject({
      status: 'failed',
      error: 'from (5) is after to (2): nothing was checked.',
    });
  });
});

describe('/config status', () => {
  it('shows the Audit log field: rows in the chain, the newest signed checkpoint, the public key', async () => {
    const cp = await svc.trail.checkpoint();
    const replies = await bot.session().run('/config status');
    const field = replies.at(-1)?.embeds[0]?.fields?.find((f) => f.name === 'Audit log');
    expect(field).toBeDefined();
    const text = displayed(field?.value);
    expect(text).toContain(`rows in the hash chain · last signed checkpoint at row ${cp?.seq}`);
    expect(text).toContain(
      `Checkpoints signed by key \`${signing.id}\`; public key \`${signing.publicText}\``,
    );
    expect(text).toContain('Check it with `/config audit verify`.');
  });
});
