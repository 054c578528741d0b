import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbedded } from '/work/main/src/storage/embedded.js';
import { connect } from '/work/main/src/storage/connection.js';
import { ConfigService } from '/work/main/src/config/service.js';
import { registry } from '/work/main/src/config/registry.js';
import { setLogLevel } from '/work/main/src/base/logger.js';
import { ConfigSync } from '/work/main/src/changes/sync.js';
setLogLevel('warn');
const dir = mkdtempSync(path.join(tmpdir(), 'exp-'));
const s = await startEmbedded({ dataDir: dir, prefer: 'ferretdb', ferretdbPath: '/work/main/.tools/bin/ferretdb', searchPath: process.env.PATH ?? '' });
const conn = await connect({ uri: s.uri, dbName: 'p', timeoutMs: 10000 });
const config = new ConfigService({ registry, conn }); await config.init();
const variant = process.argv[2];
let stop = () => {};
if (variant === 'raw') {
  const col = conn.db!.collection('config_change_tail');
  const t = setInterval(() => void col.find({ seq: { $gt: 5 } }).toArray(), 55); stop = () => clearInterval(t);
} else if (variant === 'mongoose') {
  const col = conn.collection('config_change_tail');
  const t = setInterval(() => void col.find({ seq: { $gt: 5 } }).toArray(), 55); stop = () => clearInterval(t);
} else if (variant === 'command') {
  const db = conn.db!;
  const t = setInterval(() => void db.command({ find: 'config_change_tail', filter: { seq: { $gt: 5 } } }), 55); stop = () => clearInterval(t);
} else if (variant === 'findOne') {
  const col = conn.db!.collection('config_meta');
  const t = setInterval(() => void col.findOne({ _id: 'changes' as never }), 55); stop = () => clearInterval(t);
} else if (variant === 'nosession') {
  const db = conn.db!; const client = conn.getClient();
  const t = setInterval(() => void db.command({ find: 'config_change_tail', filter: { seq: { $gt: 5 } } }, { session: undefined }), 55); stop = () => clearInterval(t);
} else if (variant === 'none') {
} else {
  const sync = new ConfigSync(config, conn, { intervalMs: 55 }); await sync.start(); stop = () => void sync.stop();
}
await new Promise(r => setTimeout(r, 1000));
const c0 = process.cpuUsage(); const t0 = Date.now();
await new Promise(r => setTimeout(r, 8000));
const u = process.cpuUsage(c0);
console.log(variant, 'cpu', ((u.user + u.system) / 1000 / (Date.now() - t0) * 100).toFixed(2) + '%');
stop(); await config.close(); await conn.close(); await s.stop();
