import type { CommandLine } from './simulated.js';

export class CommandLineError extends Error {
  override name = 'CommandLineError';
}

const MAX_LINE = 8000;

/**
 * Parses what a user would type in Discord: `/config set setting:MAX_BATCH_SIZE value:200
 * reason:"bigger batches"`, `/flag rollout name:new-checkout percent:25`, or `/config token create
 * name:ci` (a subcommand of a group). Option values may be quoted with "..." or '...' (backslash escapes
 * the quote); an unquoted value runs to the next space, and may itself contain colons (18:00).
 */
export function parseCommandLine(input: string): CommandLine {
  if (input.length > MAX_LINE)
    throw new CommandLineError(`Line too long (${input.length} characters; at most ${MAX_LINE})`);
  const tokens = tokenize(input.trim());
  const head = tokens.shift();
  if (!head || !head.text.startsWith('/') || head.quoted) {
    throw new CommandLineError(
      'A command starts with a slash, e.g. /config view setting:MAX_BATCH_SIZE or /flag view name:new-checkout',
    );
  }
  const command = head.text.slice(1);
  if (!/^[a-z0-9_-]{1,32}$/.test(command))
    throw new CommandLineError(`"${command.slice(0, 40)}" is not a command name`);
  const line: CommandLine = { command, options: Object.create(null) as Record<string, string> };
  for (const t of tokens) {
    const colon = t.nameEnd;
    if (colon === undefined) {
      // `/config token create`: the first of two words is a subcommand group.
      if (line.group || Object.keys(line.options).length) {
        throw new CommandLineError(`Expected name:value, got "${t.text.slice(0, 40)}"`);
      }
      if (!/^[a-z0-9_-]{1,32}$/.test(t.text))
        throw new CommandLineError(`"${t.text.slice(0, 40)}" is not a subcommand name`);
      if (line.subcommand) line.group = line.subcommand;
      line.subcommand = t.text;
      continue;
    }
    const name = t.text.slice(0, colon);
    if (!/^[a-z0-9_-]{1,32}$/.test(name))
      throw new CommandLineError(`"${name.slice(0, 40)}" is not an option name`);
    if (Object.hasOwn(line.options, name)) throw new CommandLineError(`Option ${name} given twice`);
    line.options[name] = t.text.slice(colon + 1);
  }
  return line;
}

interface Token {
  text: string;
  quoted: boolean;
  /** Index of the colon ending an option name, when the token is name:value. */
  nameEnd?: number;
}

function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i] ?? '')) i++;
    if (i >= s.length) break;
    let text = '';
    let quoted = false;
    let nameEnd: number | undefined;
    while (i < s.length && !/\s/.test(s[i] ?? '')) {
      const c = s[i] ?? '';
      if (c === '"' || c === "'") {
        quoted = true;
        i++;
        let closed = false;
        while (i < s.length) {
          const q = s[i] ?? '';
          if (q === '\\' && i + 1 < s.length) {
            text += s[i + 1];
            i += 2;
          } else if (q === c) {
            closed = true;
            i++;
            break;
          } else {
            text += q;
            i++;
          }
        }
        if (!closed) throw new CommandLineError(`Unclosed ${c} quote`);
      } else {
        if (c === ':' && nameEnd === undefined && !quoted) nameEnd = text.length;
        text += c;
        i++;
      }
    }
    tokens.push({ text, quoted, ...(nameEnd !== undefined ? { nameEnd } : {}) });
  }
  return tokens;
}

/**
 * The fields of a `submit` line: `value:"{\"a\": 1}" reason:'why'`, quoted as option values
 * are (a backslash escapes the quote; `\n` inside quotes is kept as typed).
 */
export function parseFieldValues(input: string): Record<string, string> {
  if (input.length > MAX_LINE)
    throw new CommandLineError(`Line too long (${input.length} characters; at most ${MAX_LINE})`);
  const out = Object.create(null) as Record<string, string>;
  for (const t of tokenize(input.trim())) {
    if (t.nameEnd === undefined)
      throw new CommandLineError(`Expected field:value, got "${t.text.slice(0, 40)}"`);
    const name = t.text.slice(0, t.nameEnd);
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(name))
      throw new CommandLineError(`"${name.slice(0, 40)}" is not a field name`);
    if (Object.hasOwn(out, name)) throw new CommandLineError(`Field ${name} given twice`);
    out[name] = t.text.slice(t.nameEnd + 1);
  }
  return out;
}

/**
 * Splits a console line into its verb and the rest: `press Confirm`, `complete "/config ..."`,
 * `submit value:"..."` (the open form), or a command.
 */
export function splitVerb(line: string): {
  verb: 'run' | 'press' | 'submit' | 'complete' | 'help' | 'quit';
  rest: string;
} {
  const trimmed = line.trim();
  const m = /^(press|submit|complete|help|quit|exit)\b\s*(.*)$/is.exec(trimmed);
  if (!m) return { verb: 'run', rest: trimmed };
  const verb = (m[1] ?? '').toLowerCase();
  let rest = (m[2] ?? '').trim();
  // A submit line is field:"value" pairs: its quotes belong to the values.
  if (
    verb !== 'submit' &&
    rest.length >= 2 &&
    (rest.startsWith('"') || rest.startsWith("'")) &&
    rest.endsWith(rest[0] ?? '')
  )
    rest = rest.slice(1, -1);
  return {
    verb: verb === 'exit' ? 'quit' : (verb as 'press' | 'submit' | 'complete' | 'help' | 'quit'),
    rest,
  };
}
