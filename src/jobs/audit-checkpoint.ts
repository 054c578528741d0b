import { checkpointLine } from '../audit/checkpoints.js';
import type { ConfigService } from '../config/service.js';
import type { JobDefinition } from './types.js';

export interface CheckpointDeps {
  config: ConfigService;
  /** AUDIT_CHECKPOINT_MINUTES (a divisor of 60). */
  minutes: number;
  /** Posts a text to ALERT_CHANNEL_ID, when set: the copy of each checkpoint kept outside the database. */
  post?: (text: string) => Promise<void>;
}

/**
 * Signs the audit chain's head every few minutes (when it moved) and posts the checkpoint to the
 * alert channel, where a rewrite of the database cannot reach it. A checkpoint whose post failed
 * is still stored; the next one covers every row before it, so nothing waits for a retry.
 */
export function auditCheckpointJob(deps: CheckpointDeps): JobDefinition {
  return {
    name: 'audit-checkpoint',
    description: 'Signs the audit log as it stands and posts the checkpoint to the alert channel',
    scheduleKeys: [],
    cron: () => (deps.minutes === 60 ? '0 * * * *' : `*/${deps.minutes} * * * *`),
    async run() {
      // A database that had no chain at start (unreachable then) begins it here.
      await deps.config.trail.begin();
      const cp = await deps.config.trail.checkpoint();
      if (!cp) return 'no new audit rows since the last checkpoint';
      await deps.post?.(
        `🔏 Audit log checkpoint: rows 1–${cp.seq} signed. Keep this line; \`npm run audit:verify -- --checkpoints FILE\` checks the log against it.\n\`\`\`\n${checkpointLine(cp)}\n\`\`\``,
      );
      return `signed the audit log up to row ${cp.seq}${deps.post ? ' and posted it' : ''}`;
    },
  };
}
