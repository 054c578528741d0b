import type { CacheFile, CacheRequest, CachedValues } from './cache-file.js';
import { networkReason } from './http.js';

export type FileStart =
  | { ok: true; cached: CachedValues; needSnapshot: boolean; warnings: string[] }
  | { ok: false; message: string };

/**
 * Decides whether the application can start from its last-known-good file while the API is
 * unreachable (`unreachable` says why, as the first half of every message), and says in one
 * line what to fix when it cannot.
 */
export async function startFromFile(
  cache: CacheFile | undefined,
  unreachable: string,
  wanted: CacheRequest,
): Promise<FileStart> {
  if (!cache)
    return refuse(
      `${unreachable} and no cacheFile is set: start the API or fix the url, and set cacheFile so the application can start from its last-known values`,
    );
  let cached: CachedValues | undefined;
  try {
    cached = await cache.read();
  } catch (err) {
    return refuse(
      `${unreachable} and the last-known-good file ${cache.path} is unreadable (${networkReason(err)}): start the API or fix the url`,
    );
  }
  if (!cached)
    return refuse(
      `${unreachable} and there is no last-known-good file at ${cache.path} yet (it is written once values have been loaded): start the API or fix the url`,
    );
  const { env, guild } = cached.request;
  if (env !== wanted.env || guild !== wanted.guild)
    return refuse(
      `${unreachable} and the last-known-good file ${cache.path} was written for ${describe(cached.request)}, not ${describe(wanted)}: start the API, or point cacheFile at a file of its own`,
    );
  const warnings = [
    `${unreachable}; serving the last-known-good values of ${cached.writtenAt.toISOString()} (seq ${cached.seq}) from ${cache.path} and retrying in the background`,
  ];
  if (cached.unreadable.length)
    warnings.push(
      `The last-known-good file holds sensitive values sealed under another token (${cached.unreadable.join(', ')}): they stay masked until the API answers`,
    );
  // Resuming the stream from the file's position only brings what changed since; a file that
  // lacks keys (written for fewer keys) or values (another token's) needs a snapshot instead.
  const needSnapshot = cached.unreadable.length > 0 || !covers(cached.request.keys, wanted.keys);
  return { ok: true, cached, needSnapshot, warnings };
}

function refuse(message: string): FileStart {
  return { ok: false, message };
}

function describe(request: CacheRequest): string {
  return `env ${request.env ?? '(default)'} and guild ${request.guild ?? '(none)'}`;
}

function covers(fileKeys: string[] | null, wanted: string[] | null): boolean {
  if (fileKeys === null) return true;
  return wanted !== null && wanted.every((key) => fileKeys.includes(key));
}
