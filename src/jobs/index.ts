import type { JobDefinition } from './types.js';
import { dailyExportJob, type ExportDeps } from './daily-export.js';

/** Every scheduled job. To add one: write src/jobs/<name>.ts returning a JobDefinition, list it here. */
export function createJobs(deps: ExportDeps): JobDefinition[] {
  return [dailyExportJob(deps)];
}
