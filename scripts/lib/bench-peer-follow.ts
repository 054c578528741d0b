import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ConnectionString } from 'mongodb-connection-string-url';
import type { mongo } from 'mongoose';
import { setLogLevel } from '../../src/base/logger.js';

const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

/**
 * The URI with the driver's command monitoring on, as a URI option (`monitorCommands=true`, which
 * the driver reads from the URI like any client option). It has to be there when the client
 * connects: the driver copies it into each pool (at its creation) and each pooled connection (at
 * its own), so setting `client.monitorCommands = true` afterwards reaches none of the connections
 * a running process already holds. Nothing else about the connection changes.
 */
export function monitoredUri(uri: string): string {
  const cs = new ConnectionString(uri);
  cs.searchParams.set('monitorCommands', 'true');
  return cs.toString();
}

/** Handshakes of the driver; its server monitor's heartbeats are not command events at all. */
const NOT_COUNTED = new Set(['hello', 'ismaster']);

/**
 * Counts the commands a client sends on its connection pool (`commandStarted`: every find,
 * update, insert, getMore... of the process), by command name and collection. The driver's
 * server monitor (one `hello` a heartbeatFrequencyMS, on a connection of its own) reports
 * `serverHeartbeat*` events, not command events, so it is not counted; `hello`/`isMaster` that
 * do come as commands (a pooled connection's handshake) are left out too.
 */
export class CommandCounter {
  private counting = false;
  private readonly by = new Map<string, number>();

  constructor(client: mongo.MongoClient) {
    client.on('commandStarted', (e: mongo.CommandStartedEvent) => {
      if (!this.counting || NOT_COUNTED.has(e.commandName.toLowerCase())) return;
      const target = e.command[e.commandName] as unknown;
      const collection =
        typeof target === 'string'
          ? target
          : typeof e.command.collection === 'string'
            ? (e.command.collection as string)
            : '-';
      const name = `${e.commandName} ${collection}`;
      this.by.set(name, (this.by.get(name) ?? 0) + 1);
    });
  }

  /** Commands and this process's CPU over `ms` of wall time. */
  async window(ms: number): Promise<{
    commands: number;
    seconds: number;
    cpu_percent: number;
    by: Record<string, number>;
  }> {
    this.by.clear();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    this.counting = true;
    await new Promise((r) => setTimeout(r, ms));
    this.counting = false;
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    const by = Object.fromEntries([...this.by].sort((a, b) => b[1] - a[1]));
    return {
      commands: [...this.by.values()].reduce((a, b) => a + b, 0),
      seconds: wallMs / 1000,
      cpu_percent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      by,
    };
  }
}

/**
 * Mode "follow": a process started as production starts one (startRuntime with report 'api':
 * its sync, change feed and instance heartbeat all run; no HTTP server), which prints each change
 * that becomes current in it (`{change, scope, version, at}`, `at` its Date.now()). Commands on
 * stdin: `idle <ms>` counts its database commands and its CPU over that window and answers
 * `{idle: ...}`; `unpolled <ms>` does the same with its change feed's polling put off (an hour
 * apart: ChangeFeed.every), then polling again at its interval, so the difference between the
 * two is the cost of polling; `stop` ends it.
 */
export async function followPeer(args: { uri: string; dbName: string; intervalMs?: number }): Promise<void> {
  const { parseEnv } = await import('../../src/app/env.js');
  const { startRuntime } = await import('../../src/app/runtime.js');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'config-bot-bench-follow-'));
  const e = parseEnv({
    MONGODB_URI: monitoredUri(args.uri),
    MONGODB_DB_NAME: args.dbName,
    DATA_DIR: dataDir,
    CONFIG_POLL_INTERVAL_MS: String(args.intervalMs ?? 100),
  });
  const runtime = await startRuntime(e, { jobs: false, report: 'api' });
  setLogLevel('warn');
  const counter = new CommandCounter(runtime.config.conn.getClient());
  runtime.config.subscribe(undefined, (c) =>
    out({ change: c.key, scope: String(c.scope), version: c.version, at: Date.now() }),
  );
  out({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, arg] = line.trim().split(/\s+/);
    if (command === 'stop') break;
    if (command === 'idle') out({ idle: await counter.window(Number(arg) || 10_000) });
    if (command === 'unpolled') {
      runtime.feed.every(3_600_000);
      const idle = await counter.window(Number(arg) || 10_000);
      runtime.feed.every(e.CONFIG_POLL_INTERVAL_MS);
      out({ idle });
    }
  }
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
