import { EmbedBuilder, SlashCommandSubcommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { describeBreak, outcomeText, reportLines } from '../../../src/audit/report-text.js';
import { verifyRange } from '../../../src/audit/verify.js';
import { UserError } from '../../../src/base/errors.js';
import { actorOf, contextOf } from '../../../src/discord/access.js';
import { answer } from '../../../src/discord/config/snapshot.js';
import { COLOR, LIMITS, safe } from '../../../src/discord/render.js';
import type { CommandContext, Requirement } from '../../../src/discord/types.js';

export const data = new SlashCommandSubcommandBuilder()
  .setName('verify')
  .setDescription('Check that the audit log was not altered: every row, gap and signed checkpoint')
  .addIntegerOption((o) =>
    o.setName('from').setDescription('First row to check (default: the first)').setMinValue(1),
  )
  .addIntegerOption((o) =>
    o.setName('to').setDescription('Last row to check (default: the newest)').setMinValue(1),
  );

// Reads the whole log (or a range): acknowledged first.
export const requires = {
  access: 'read',
  audit: 'audit-verify',
  defer: true,
  attempt: () => ({ key: '*', action: 'audit-verify' }),
} as const satisfies Requirement;

/** /config audit verify: the chain's hashes, links and checkpoints; each break named by row id and place. */
export async function execute(i: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const from = i.options.getInteger('from') ?? undefined;
  const to = i.options.getInteger('to') ?? undefined;
  const row = { key: '*', action: 'audit-verify' as const, actor: actorOf(i), ...contextOf(i) };
  let range: ReturnType<typeof verifyRange>;
  try {
    range = verifyRange(from, to);
  } catch (err) {
    if (err instanceof UserError)
      await ctx.config.audit.record({ ...row, status: 'failed', error: err.message });
    throw err;
  }
  const report = await ctx.config.trail.verify(range);
  const [summary = '', ...notes] = reportLines({ ...report, breaks: [], moreBreaks: 0 });
  await ctx.config.audit.record({
    ...row,
    status: 'success',
    newValue: outcomeText(report),
  });
  const embed = new EmbedBuilder()
    .setColor(report.intact ? COLOR.ok : COLOR.error)
    .setTitle(report.intact ? 'Audit log intact' : 'Audit log altered')
    .setDescription([summary, ...notes].join('\n'));
  // A break names row ids, which whoever wrote to the database chose: shown as text, never as markdown.
  const lines = report.breaks.map((b) => ({
    text: `• ${safe(describeBreak(b), LIMITS.description)}`,
    plain: describeBreak(b),
  }));
  if (report.moreBreaks)
    lines.push({ text: `…and ${report.moreBreaks} more`, plain: `...and ${report.moreBreaks} more` });
  await answer(i, { embeds: [embed] }, lines, 'audit-verify.txt');
}
