import { cronExpression } from '../../src/config/kinds.js';
import { buildRegistry, registry, type KeyDefinition } from '../../src/config/registry.js';

/** The shipped keys plus TEST_CRON, a cron expression that drives the test jobs' schedules. */
export function registryWithTestCron(initial = '0 0 1 1 *') {
  const defs: Record<string, KeyDefinition> = {};
  for (const [k, d] of registry) defs[k] = d;
  defs.TEST_CRON = {
    ...cronExpression(),
    category: 'system',
    description: 'Schedule of the test job',
    default: initial,
    sensitive: false,
    requiresRestart: false,
  } as KeyDefinition;
  return buildRegistry(defs);
}
