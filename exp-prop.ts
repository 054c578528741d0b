import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startEmbedded } from '/work/main/src/storage/embedded.js';
import { connect } from '/work/main/src/storage/connection.js';
import { ConfigService } from '/work/main/src/config/service.js';
import { registry } from '/work/main/src/config/registry.js';
import { setLogLevel } from '/work/main/src/base/logger.js';
setLogLevel('warn');
const mode = process.argv[2];
if (mode === 'follow') {
  const { ConfigSync } = await import('/work/main/src/changes/sync.js');
  const conn = await connect({ uri: process.argv[3]!, dbName: 'p', timeoutMs: 10000 });
  let n = 0; conn.getClient().on('commandStarted', () => n++);
  const config = new ConfigService({ registry, conn }); await config.init();
  const sync = new ConfigSync(config, conn, { intervalMs: Number(process.argv[4] ?? 55) }); await sync.start();
  config.subscribe(undefined, (c) => void process.stdout.write(JSON.stringify({ key: c.key, version: c.version, at: Date.now() }) + '\n'));
  const c0 = process.cpuUsage(); n = 0; const t0 = Date.now();
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  setTimeout(() => { const u = process.cpuUsage(c0); process.stderr.write(`idle: ${(n / ((Date.now() - t0) / 1000)).toFixed(1)} q/s cpu ${((u.user + u.system) / 1000 / (Date.now() - t0) * 100).toFixed(1)}%\n`); }, 5000).unref();
  for await (const l of createInterface({ input: process.stdin })) if (l === 'stop') break;
  await sync.stop(); await config.close(); await conn.close(); process.exit(0);
}
const dir = mkdtempSync(path.join(tmpdir(), 'exp-'));
const s = await startEmbedded({ dataDir: dir, prefer: 'ferretdb', ferretdbPath: '/work/main/.tools/bin/ferretdb', searchPath: process.env.PATH ?? '' });
const uri = s.uri.replace(/\/$/, '') + '/?monitorCommands=true';
const conn = await connect({ uri: s.uri, dbName: 'p', timeoutMs: 10000 });
const config = new ConfigService({ registry, conn }); await config.init();
const nf = Number(process.argv[2] ?? 1);
const peers = Array.from({ length: nf }, () => { const p = spawn(process.execPath, [...process.execArgv, import.meta.filename, 'follow', uri], { stdio: ['pipe', 'pipe', 'inherit'] }); return { p, lines: createInterface({ input: p.stdout })[Symbol.asyncIterator]() }; });
for (const p of peers) await p.lines.next();
await new Promise(r => setTimeout(r, 5500));
const admin = { id: '100000000000000001', tag: 'bench' };
const got: number[] = [];
for (let i = 0; i < 100; i++) {
  const r = await config.set('IMMEDIATE_EXPORT_BUFFER', String(i % 2 ? 10 : 20), admin);
  const t = Date.now();
  for (const p of peers) for (;;) { const m = JSON.parse(String((await p.lines.next()).value)); if (m.key === 'IMMEDIATE_EXPORT_BUFFER' && m.version === r.version) { got.push(m.at - t); break; } }
  await new Promise(res => setTimeout(res, 100 + Math.random() * 100));
}
got.sort((a, b) => a - b);
console.log('n', got.length, 'p50', got[got.length >> 1], 'p99', got[Math.floor(got.length * 0.99)], 'max', got.at(-1));
for (const p of peers) p.p.stdin.write('stop\n');
await config.close(); await conn.close(); await s.stop();
