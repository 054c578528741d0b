import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * prom-client reports these totals as gauges named `_total`, which Prometheus reserves for
 * counters (promtool refuses them); the same numbers by type (`nodejs_active_handles{type}`...)
 * are kept, and `sum()` over them gives the totals.
 */
const MISNAMED = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const byRole = new Map<string, Registry>();

/**
 * Adds the process and Node.js metrics (CPU, memory, heap, event-loop lag, GC), labelled with
 * the process's role, to `registry`. They are made once per role and process, then shared by
 * every server in it: each collection starts an event-loop monitor and a GC observer that are
 * never stopped.
 */
export function addProcessMetrics(registry: Registry, role: string): void {
  let shared = byRole.get(role);
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared, labels: { role } });
    for (const name of MISNAMED) shared.removeSingleMetric(name);
    byRole.set(role, shared);
  }
  for (const { name } of shared.getMetricsAsArray()) {
    const metric = shared.getSingleMetric(name);
    if (metric) registry.registerMetric(metric);
  }
}
