import type { PlannedChange } from '../../config/transfer.js';
import type { PendingStore } from '../confirmations.js';
import type { CommandContext } from '../types.js';

/** An import waiting for its Confirm button: the changes its preview showed. */
export interface PendingImport {
  userId: string;
  fileName: string;
  changes: PlannedChange[];
  reason: string;
}

/** The pending imports of a bot (see PendingStore). */
export function pendingImports(ctx: CommandContext): PendingStore<PendingImport> {
  return ctx.imports;
}
