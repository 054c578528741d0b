import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { confirmationButtons } from '../../src/discord/confirm.js';
import { defineCommand } from '../../src/discord/loader.js';
import * as archive from './archive.js';
import * as condition from './condition.js';
import * as create from './create.js';
import * as evaluate from './evaluate.js';
import * as history from './history.js';
import * as list from './list.js';
import * as off from './off.js';
import * as on from './on.js';
import * as override from './override.js';
import * as payload from './payload.js';
import * as requireFlag from './require.js';
import * as rollback from './rollback.js';
import * as rollout from './rollout.js';
import * as schedule from './schedule.js';
import * as stickiness from './stickiness.js';
import * as target from './target.js';
import * as threshold from './threshold.js';
import * as variants from './variants.js';
import * as view from './view.js';

// /flag: one file per subcommand in this folder (its options, requirement, handler and buttons);
// here only the command itself and the order Discord shows them in. A refusal is audited with
// the key `flag:<name>`.
export const { data, requires, execute, autocomplete, button, buttonRequires } = defineCommand({
  data: new SlashCommandBuilder()
    .setName('flag')
    .setDescription('Feature flags: view, switch, target, roll out, explain')
    // Hidden from non-admins by default; server admins can widen it, so access is checked in code too.
    .setDefaultMemberPermissions(PermissionFlagsBits.Administrator)
    .setContexts(InteractionContextType.Guild),
  subcommands: {
    list,
    view,
    create,
    on,
    off,
    rollout,
    target,
    condition,
    schedule,
    variants,
    payload,
    override,
    stickiness,
    threshold,
    require: requireFlag,
    evaluate,
    history,
    rollback,
    archive,
  },
  // Confirm and Cancel of switching off in production, archiving and rollback (src/discord/confirm.ts).
  buttons: confirmationButtons(),
});
