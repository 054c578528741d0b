/**
 * Re-encrypts every stored sensitive value (current values, versions; audit rows keep none) with the first
 * key of CONFIG_ENCRYPTION_KEYS, so the older keys listed after it can be removed. Safe to run
 * again, and while bots run; audited once per key.
 *
 *   1. Put the new key first in CONFIG_ENCRYPTION_KEYS, keep the old one after it, restart the bots.
 *   2. npm run rotate-encryption-key
 *   3. Remove the old key from CONFIG_ENCRYPTION_KEYS and restart the bots.
 */
import { userInfo, hostname } from 'node:os';
import { runEntryPoint } from '../src/app/cli.js';

runEntryPoint(async (e) => {
  if (process.argv.length > 2) {
    process.stderr.write('usage: npm run rotate-encryption-key (takes no arguments)\n');
    return 2;
  }
  if (e.CONFIG_ENCRYPTION_KEYS.length === 0) {
    process.stderr.write(
      'CONFIG_ENCRYPTION_KEYS is not set: list the new key first and the old ones after it (openssl rand -base64 32).\n',
    );
    return 2;
  }
  // Loaded once the request holds: a wrong one is answered at once.
  const [{ startRuntime }, { SnapshotStore }] = await Promise.all([
    import('../src/app/runtime.js'),
    import('../src/storage/snapshots.js'),
  ]);
  const runtime = await startRuntime(e, { jobs: false });
  try {
    const actor = { id: 'cli', tag: `${userInfo().username}@${hostname()}` };
    const r = await runtime.config.rotateEncryption(actor);
    // Named snapshots keep sensitive values sealed as the store does: re-encrypted too.
    r.resealed += await new SnapshotStore(runtime.config.conn).reseal((slot, stored) =>
      runtime.config.resealValue(slot, stored),
    );
    process.stdout.write(
      `Every stored sensitive value is encrypted with key ${r.keyId}: ${r.resealed} re-encrypted now` +
        `${r.skipped ? `, ${r.skipped} changed by a writer meanwhile (already on the new key)` : ''}` +
        `${r.repaired ? `, ${r.repaired} current values repaired` : ''}.` +
        `${e.CONFIG_ENCRYPTION_KEYS.length > 1 ? ' The other keys in CONFIG_ENCRYPTION_KEYS can now be removed (restart the bots after).' : ''}\n`,
    );
    return 0;
  } finally {
    await runtime.stop();
  }
});
