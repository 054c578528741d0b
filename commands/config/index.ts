import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { confirmationButtons } from '../../src/discord/confirm.js';
import { defineCommand, group } from '../../src/discord/loader.js';
import * as auditVerify from './audit/verify.js';
import * as diff from './diff.js';
import * as exportConfig from './export.js';
import * as history from './history.js';
import * as importConfig from './import.js';
import * as list from './list.js';
import * as panel from './panel.js';
import * as pending from './pending.js';
import * as requestApprove from './request/approve.js';
import * as requestEdit from './request/edit.js';
import * as requestReject from './request/reject.js';
import * as requestView from './request/view.js';
import * as requestWithdraw from './request/withdraw.js';
import * as requests from './requests.js';
import * as reset from './reset.js';
import * as rollback from './rollback.js';
import * as set from './set.js';
import * as snapshotCreate from './snapshot/create.js';
import * as snapshotDiff from './snapshot/diff.js';
import * as snapshotList from './snapshot/list.js';
import * as snapshotRestore from './snapshot/restore.js';
import * as snapshotView from './snapshot/view.js';
import * as status from './status.js';
import * as tokenCreate from './token/create.js';
import * as tokenList from './token/list.js';
import * as tokenRevoke from './token/revoke.js';
import * as view from './view.js';

// /config: one file per subcommand in this folder (its options, requirement, handler, buttons and
// forms); here only the command itself and the order Discord shows them in.
export const { data, requires, execute, autocomplete, button, buttonRequires, modal, modalRequires } =
  defineCommand({
    data: new SlashCommandBuilder()
      .setName('config')
      .setDescription("View and change the application's configuration")
      // Hidden from non-admins by default; server admins can widen it, so access is checked in code too.
      .setDefaultMemberPermissions(PermissionFlagsBits.Administrator)
      .setContexts(InteractionContextType.Guild),
    subcommands: {
      view,
      set,
      list,
      history,
      diff,
      rollback,
      reset,
      status,
      panel,
      pending,
      export: exportConfig,
      import: importConfig,
      requests,
      request: group('One change request: approve, reject, withdraw, view or edit it', {
        view: requestView,
        approve: requestApprove,
        reject: requestReject,
        withdraw: requestWithdraw,
        edit: requestEdit,
      }),
      token: group('Tokens for the HTTP API (admins)', {
        create: tokenCreate,
        list: tokenList,
        revoke: tokenRevoke,
      }),
      audit: group('The audit log: check that it was not altered', { verify: auditVerify }),
      snapshot: group(
        'Named snapshots of every value in every scope: compare, restore, apply as a template',
        {
          create: snapshotCreate,
          list: snapshotList,
          view: snapshotView,
          diff: snapshotDiff,
          restore: snapshotRestore,
        },
      ),
    },
    // Confirm and Cancel of rollback, reset, snapshot restore and import (src/discord/confirm.ts).
    buttons: confirmationButtons({ selfService: true }),
  });
