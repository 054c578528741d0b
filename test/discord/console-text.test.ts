import { describe, expect, it } from 'vitest';
import { renderText, undoEscapes } from '../../src/offline/console-session.js';
import { useBot } from '../helpers/discord.js';

const f = useBot('console_text');

describe('console text shows what Discord displays', () => {
  it('shows 0.85, not the markdown escape 0\\.85', async () => {
    const [reply] = await f.bot.session().run('/config view setting:AI_CONFIDENCE_THRESHOLD');
    const text = renderText(reply ?? { kind: 'reply', embeds: [], components: [] });
    expect(text).toContain('Value: 0.85');
    expect(text).not.toContain('\\');
  });

  it('shows a reason full of markdown exactly as it was typed', async () => {
    const reason = String.raw`*bold* _it_ __u__ ~~s~~ ||spoiler|| > quote # head - item 1. one [x](y) \ back`;
    await f.bot
      .session()
      .run(`/config set setting:LOG_LEVEL value:warn reason:"${reason.replace(/\\/g, '\\\\')}"`);
    const [, page] = await f.bot.session().run('/config history setting:LOG_LEVEL limit:1');
    expect(renderText(page ?? { kind: 'reply', embeds: [], components: [] })).toContain(`“${reason}”`);
  });

  it.each([
    [
      String.raw`0\.85 \*a\* \_b\_ \~ \| \> \# \- \[ \] \( \) \\ \😀`,
      String.raw`0.85 *a* _b_ ~ | > # - [ ] ( ) \ 😀`,
    ],
    [String.raw`keep \n \a \1 and a lone \ `, String.raw`keep \n \a \1 and a lone \ `],
    [
      'inside code `C:\\*.txt` and ```\\_x\\_``` stay as typed',
      'inside code `C:\\*.txt` and ```\\_x\\_``` stay as typed',
    ],
    ['an escaped \\` is a backtick, then \\*', 'an escaped ` is a backtick, then *'],
  ])('undoes the escapes of %s', (escaped, shown) => {
    expect(undoEscapes(escaped)).toBe(shown);
  });
});
