import { describe, expect, it } from 'vitest';
import type { CapturedCall } from '../../src/offline/rest.js';
import { actor } from '../helpers/db.js';
import { freshBot } from '../helpers/fresh.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk, which must come first. */
function pngSize(data: Buffer): { width: number; height: number } {
  expect(data.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(data.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

/** Runs a line and returns the call that answered it (after the defer). */
async function answer(bot: Awaited<ReturnType<typeof freshBot>>['bot'], line: string): Promise<CapturedCall> {
  const from = bot.discord.calls.length;
  await bot.session().run(line);
  const call = bot.discord.calls.slice(from).find((c) => c.kind === 'editReply');
  if (!call) throw new Error(`no answer to ${line}`);
  return call;
}

const imageOf = (call: CapturedCall) =>
  (call.body?.embeds as { image?: { url?: string } }[] | undefined)?.[0]?.image?.url;

describe('/config history chart', () => {
  it('attaches an 800×300 PNG step chart of a number, shown as the embed image', async () => {
    const { svc, bot } = await freshBot('history_chart_number');
    for (const n of ['250', '50', '400']) await svc.set('MAX_BATCH_SIZE', n, actor());
    const call = await answer(bot, '/config history setting:MAX_BATCH_SIZE');
    expect(call.files).toEqual(['max_batch_size-history.png']);
    expect(pngSize(call.fileData?.[0] ?? Buffer.alloc(0))).toEqual({ width: 800, height: 300 });
    expect(imageOf(call)).toBe('attachment://max_batch_size-history.png');
    expect(bot.discord.violations).toEqual([]);
  });

  it('charts a time of day and a boolean, even with a single version', async () => {
    const { svc, bot } = await freshBot('history_chart_kinds');
    await svc.set('DAILY_EXPORT_TIME', '20:30', actor());
    const time = await answer(bot, '/config history setting:DAILY_EXPORT_TIME');
    expect(pngSize(time.fileData?.[0] ?? Buffer.alloc(0))).toEqual({ width: 800, height: 300 });
    const flag = await answer(bot, '/config history setting:MAINTENANCE_MODE');
    expect(flag.files).toEqual(['maintenance_mode-history.png']);
    expect(pngSize(flag.fileData?.[0] ?? Buffer.alloc(0))).toEqual({ width: 800, height: 300 });
  });

  it('attaches no chart to a text key', async () => {
    const { svc, bot } = await freshBot('history_chart_text');
    await svc.set('SCHEDULE_TIMEZONE', 'Europe/Paris', actor());
    const call = await answer(bot, '/config history setting:SCHEDULE_TIMEZONE');
    expect(call.files).toBeUndefined();
    expect(imageOf(call)).toBeUndefined();
    expect(call.body?.embeds).toHaveLength(1);
  });
});
