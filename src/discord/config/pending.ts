import { formatDuration } from '../../config/kinds.js';
import { present } from '../../config/present.js';
import type { RegisteredKey } from '../../config/registry.js';
import type { ScheduleDoc } from '../../storage/schedules.js';
import type { ConfigService } from '../../config/service.js';
import { safe, when } from '../render.js';

/** What a pending change will do, in one line of Discord markdown (what users typed is escaped). */
export function describePending(config: ConfigService, doc: ScheduleDoc): string {
  let def: RegisteredKey;
  try {
    def = config.definition(doc.key);
  } catch {
    // A key no longer declared: still listed (and cancellable), its value shown as stored.
    return safe(
      `${doc.key} at ${doc.scope}: ${doc.kind} at ${doc.runAt.toISOString()} (this key is no longer declared)`,
      500,
    );
  }
  const head = safe(`${doc.key}${doc.scope === 'global' ? '' : ` at ${doc.scope}`}`, 200);
  const value = (v: unknown) => safe(present(def, v), 300);
  if (doc.kind === 'expire')
    return `${head}: temporary until ${when(doc.runAt)}, then ${doc.unset ? 'inherits again' : value(doc.value)}`;
  const then = doc.thenForMs !== undefined ? `, for ${formatDuration(doc.thenForMs)}` : '';
  return `${head}: becomes ${value(doc.value)} at ${when(doc.runAt)}${then} (scheduled by ${safe(doc.createdBy.tag, 100)})`;
}
