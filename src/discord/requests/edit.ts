import type { ChangeRequest, RequestChange } from '../../approvals/requests.js';
import { editedChange as edited } from '../../approvals/request-edit.js';
import type { ConfigService } from '../../config/service.js';

/**
 * The change of a single-key set request with the value `text` instead (see
 * src/approvals/request-edit.ts, shared with the panel).
 */
export function editedChange(
  config: ConfigService,
  r: ChangeRequest,
  text: string,
): { changes: RequestChange[]; warnings: string[] } {
  return edited((key) => config.definition(key), r, text);
}
