import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ApiMetrics } from '../../src/api/metrics.js';
import { startTestApi, type TestApi } from '../helpers/api.js';

interface Family {
  type?: string;
  help?: string;
}

/** The metric families of a Prometheus text exposition, and what breaks the format's conventions. */
function parse(text: string): { families: Map<string, Family>; problems: string[] } {
  const families = new Map<string, Family>();
  const problems: string[] = [];
  const family = (name: string) => families.get(name) ?? families.set(name, {}).get(name)!;
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, what, name = '', rest = ''] = meta;
      const f = family(name);
      const field = what === 'HELP' ? 'help' : 'type';
      if (f[field] !== undefined) problems.push(`${name}: ${what} given twice (a duplicate name)`);
      f[field] = rest;
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? line;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    const owner = families.has(name) ? name : base;
    const type = families.get(owner)?.type;
    if (!type || (owner !== name && type !== 'histogram' && type !== 'summary'))
      problems.push(`${name}: a sample of no declared metric`);
  }
  for (const [name, f] of families) {
    if (!f.type) problems.push(`${name}: no TYPE`);
    if (!f.help?.trim()) problems.push(`${name}: no help text`);
    if (f.type === 'counter' && !name.endsWith('_total'))
      problems.push(`${name}: a counter not named _total`);
    if (f.type !== 'counter' && name.endsWith('_total')) problems.push(`${name}: a ${f.type} named _total`);
    if (
      /_(ms|milliseconds|microseconds|minutes|hours|days|kb|mb|gb|kilobytes|megabytes|percent)(_|$)/.test(
        name,
      )
    )
      problems.push(`${name}: not in a base unit (seconds, bytes, ratio)`);
    if (/(^|_)(lag|duration|latency|time|uptime)(_|$)/.test(name) && !/_seconds(_total)?$/.test(name))
      problems.push(`${name}: a time not named _seconds`);
    if (/(^|_)(memory|heap|size)(_|$)/.test(name) && !name.endsWith('_bytes'))
      problems.push(`${name}: a size not named _bytes`);
  }
  return { families, problems };
}

async function scrape(api: TestApi): Promise<string> {
  const res = await api.call('/metrics');
  expect(res.status).toBe(200);
  return res.text();
}

const types = (families: Map<string, Family>, names: string[]) =>
  Object.fromEntries(names.map((n) => [n, families.get(n)?.type]));

describe('/metrics follows the Prometheus conventions', () => {
  it('counts events in _total counters, adds the process metrics with its role, and names units', async () => {
    const api = await startTestApi('metrics_conventions');
    const reader = await api.token('read');
    expect((await api.call('/v1/config/LOG_LEVEL', { token: reader })).status).toBe(200);
    const text = await scrape(api);
    const { families, problems } = parse(text);
    expect(problems).toEqual([]);
    expect(
      types(families, [
        'config_cache_hits_total',
        'config_cache_misses_total',
        'config_writes_refused_total',
        'config_job_runs_total',
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_seconds',
        'nodejs_gc_duration_seconds',
      ]),
    ).toEqual({
      config_cache_hits_total: 'counter',
      config_cache_misses_total: 'counter',
      config_writes_refused_total: 'counter',
      config_job_runs_total: 'counter',
      process_cpu_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      nodejs_heap_size_used_bytes: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
      nodejs_gc_duration_seconds: 'histogram',
    });
    expect(text).toMatch(/^process_resident_memory_bytes\{role="api"\} [1-9]/m);
    expect(text).toMatch(/^config_cache_(hits|misses)_total [1-9]/m);
  });

  it('serves the process metrics from every server in one process, each with its role', async () => {
    const first = await startTestApi('metrics_first');
    const second = await startTestApi('metrics_second');
    // A bot process's metrics, made in this process beside the two API servers.
    const bot = new ApiMetrics({ ...second.runtime, role: 'bot' });
    try {
      for (const [text, role] of [
        [await scrape(first), 'api'],
        [await scrape(second), 'api'],
        [await bot.registry.metrics(), 'bot'],
      ] as const) {
        expect(parse(text).problems).toEqual([]);
        expect(text).toMatch(new RegExp(`^process_cpu_seconds_total\\{role="${role}"\\} `, 'm'));
        expect(text).not.toMatch(new RegExp(`role="(?!${role}")`));
      }
    } finally {
      bot.close();
    }
  });

  it('passes promtool check metrics', async (ctx) => {
    if (spawnSync('promtool', ['--version']).error) {
      process.stderr.write(
        'promtool check metrics SKIPPED: promtool is not installed (Debian: apt-get install prometheus)\n',
      );
      ctx.skip();
    }
    const api = await startTestApi('metrics_promtool');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: await scrape(api), encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
  });
});
