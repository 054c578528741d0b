import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbedded } from '/work/main/src/storage/embedded.js';
const dir = mkdtempSync(path.join(tmpdir(), 'exp-'));
const s = await startEmbedded({ dataDir: dir, prefer: 'ferretdb', ferretdbPath: '/work/main/.tools/bin/ferretdb', searchPath: process.env.PATH ?? '' });
const c = new MongoClient(s.uri); await c.connect();
const db = c.db('x'); await db.collection('t').insertOne({ seq: 1 });
for (const round of [1, 2]) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < 1000; i++) await db.collection('t').find({ seq: { $gt: 5 } }).toArray();
  const u = process.cpuUsage(c0);
  console.log('find: cpu per cmd µs', ((u.user + u.system) / 1000).toFixed(0), 'wall per cmd ms', ((performance.now() - t0) / 1000).toFixed(2));
  const c1 = process.cpuUsage();
  for (let i = 0; i < 1000; i++) await db.command({ ping: 1 });
  const u1 = process.cpuUsage(c1);
  console.log('ping: cpu per cmd µs', ((u1.user + u1.system) / 1000).toFixed(0));
}
await c.close(); await s.stop();
