import { ArgsError, readArgs } from './args.js';

export const USAGE = `usage: npm run -s console -- [--json] [--yes] [--as admin|member|USER_ID] [--roles ID,ID] [--guild ID | --dm] [--out DIR] [--attach FILE] ["/config view setting:MAX_BATCH_SIZE"]
  --yes     with a command that asks for confirmation (a rollback, a reset, /flag off in production): press Confirm and print the result
  --out     the folder where files of replies (an export, a history chart) are saved (default: DATA_DIR/console-files)
  --attach  picks a local file for the command's file option (or write file:@PATH in the command)
Commands: /config (settings, tokens) and /flag (feature flags), as typed in Discord:
  /config list, /config set setting:MAX_BATCH_SIZE value:200
  /flag list, /flag create name:new-checkout description:"New checkout" type:release, /flag on name:new-checkout,
  /flag rollout name:new-checkout percent:25, /flag evaluate name:new-checkout member:<@USER_ID> attributes:plan=pro
  /config export, /config import file:@./config-export.json dry-run:true
Interactive lines: a command, press LABEL_OR_ID, submit field:"text" (the open form), complete "/config view setting:MAX" or complete "/flag view name:new", help, quit`;

export interface ConsoleArgs {
  json: boolean;
  yes: boolean;
  as: string;
  roles: string[];
  /** A guild id, null in a DM (--dm), unset for the configured guild. */
  guildId?: string | null;
  out?: string;
  attach: string[];
  /** The command given on the command line (its words joined), if any. */
  line?: string;
}

/** The console's arguments, or 'help'; throws ArgsError (one line) for arguments it cannot use. */
export function consoleArgs(argv: string[]): ConsoleArgs | 'help' {
  const { values: v, positionals } = readArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      yes: { type: 'boolean', short: 'y', default: false },
      as: { type: 'string', default: 'admin' },
      roles: { type: 'string' },
      guild: { type: 'string' },
      dm: { type: 'boolean', default: false },
      out: { type: 'string' },
      attach: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) return 'help';
  if (!/^(admin|member|\d{15,21})$/.test(v.as))
    throw new ArgsError('--as takes admin, member or a user id (15-21 digits)');
  if (v.guild !== undefined && v.dm) throw new ArgsError('--guild and --dm: give one of them');
  if (v.guild !== undefined && !/^\d{15,21}$/.test(v.guild))
    throw new ArgsError('--guild takes a guild id (15-21 digits)');
  const line = positionals.join(' ');
  if (v.yes && !line)
    throw new ArgsError(
      '--yes applies to a command given on the command line; interactively, type `press Confirm`',
    );
  return {
    json: v.json,
    yes: v.yes,
    as: v.as,
    roles: (v.roles ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
    ...(v.dm ? { guildId: null } : v.guild !== undefined ? { guildId: v.guild } : {}),
    ...(v.out !== undefined ? { out: v.out } : {}),
    attach: v.attach,
    ...(line ? { line } : {}),
  };
}
