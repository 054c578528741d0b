/**
 * A worker that reads its settings through the configuration client: it processes "batches" of
 * MAX_BATCH_SIZE items, accepting predictions at AI_CONFIDENCE_THRESHOLD, and follows changes made
 * in Discord at once, without a restart. See examples/README.md.
 *
 *   CONFIG_API_URL=http://127.0.0.1:8080 CONFIG_API_TOKEN=cfgbot_... \
 *   CONFIG_CACHE_FILE=./worker-config.json node --conditions=config-bot-source --import tsx examples/worker.ts
 */
import { ConfigClient } from '@config-bot/client';

/** The keys this worker reads and their types, as declared in src/config/registry.ts. */
interface WorkerConfig {
  MAX_BATCH_SIZE: number;
  AI_CONFIDENCE_THRESHOLD: number;
}

const url = process.env.CONFIG_API_URL;
const token = process.env.CONFIG_API_TOKEN;
if (!url || !token) {
  console.error(
    'Set CONFIG_API_URL (e.g. http://127.0.0.1:8080) and CONFIG_API_TOKEN (from /config token create)',
  );
  process.exit(1);
}

const client = new ConfigClient<WorkerConfig>({
  url,
  token,
  keys: ['MAX_BATCH_SIZE', 'AI_CONFIDENCE_THRESHOLD'],
  cacheFile: process.env.CONFIG_CACHE_FILE || undefined,
  env: process.env.CONFIG_ENV || undefined,
  name: 'example-worker',
});
client.on('warn', (message) => console.warn(`[config] ${message}`));
client.on('error', (err) => console.error(`[config] ${err.message}`));
client.on('connected', ({ seq }) => console.log(`[config] following changes from #${seq}`));

try {
  await client.ready();
} catch (err) {
  console.error((err as Error).message);
  await client.close();
  process.exit(1);
}

const { source } = client.status();
console.log(
  `Started from ${source === 'api' ? 'the API' : 'the last-known-good file'}: ` +
    `MAX_BATCH_SIZE=${client.get('MAX_BATCH_SIZE', 100)} AI_CONFIDENCE_THRESHOLD=${client.get('AI_CONFIDENCE_THRESHOLD', 0.85)}`,
);

client.subscribe(['MAX_BATCH_SIZE', 'AI_CONFIDENCE_THRESHOLD'], (change) => {
  const who = change.actor?.tag ?? change.actor?.id ?? 'a resync';
  console.log(
    `${change.key}: ${String(change.previous)} -> ${String(change.value)} (version ${change.version}, by ${who})`,
  );
});

// The work itself: every read is a synchronous memory read, so it can sit in the hot loop.
const work = setInterval(() => {
  const size = client.get('MAX_BATCH_SIZE', 100);
  const threshold = client.get('AI_CONFIDENCE_THRESHOLD', 0.85);
  console.log(`processing a batch of ${size} items, accepting predictions >= ${threshold}`);
}, 10_000);

const stop = async (signal: string): Promise<void> => {
  console.log(`${signal}: stopping`);
  clearInterval(work);
  await client.close(); // stops the stream and timers, writes the cache file one last time
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
