import type { CacheFile, CacheRequest, CachedValues } from './cache-file.js';
import { errorReason } from './http.js';

export type FileStart =
  | { ok: true; cached: CachedValues; needSnapshot: boolean; warnings: string[] }
  | { ok: false; message: string; warnings: string[] };

/** What the client asks for, to compare with what a file was written for. */
export interface Wanted extends CacheRequest {
  /** The API's base URL. */
  api: string;
}

/**
 * Decides whether the application can start from its last-known-good file while the API is
 * unreachable (`unreachable` says why, as the first half of every message), and says in one
 * line what to fix when it cannot.
 */
export async function startFromFile(
  cache: CacheFile | undefined,
  unreachable: string,
  wanted: Wanted,
): Promise<FileStart> {
  if (!cache)
    return refuse(
      `${unreachable} and no cacheFile is set: start the API or fix the url, and set cacheFile so the application can start from its last-known values`,
    );
  let cached: CachedValues | undefined;
  try {
    cached = await cache.read();
  } catch (err) {
    const why = oneLine(errorReason(err));
    return refuse(
      `${unreachable} and the last-known-good file ${cache.path} is unreadable (${why}): start the API or fix the url`,
      [`Ignored the last-known-good file ${cache.path}: ${why}`],
    );
  }
  if (!cached)
    return refuse(
      `${unreachable} and there is no last-known-good file at ${cache.path} yet (it is written once values have been loaded): start the API or fix the url`,
    );
  if (!sameTarget(cached, wanted))
    return refuse(
      `${unreachable} and the last-known-good file ${cache.path} was written for ${describe(cached.request)}, not ${describe(wanted)}: start the API, or point cacheFile at a file of its own`,
    );
  const warnings = [
    `${unreachable}; serving the last-known-good values of ${cached.writtenAt.toISOString()} (seq ${cached.seq}) from ${cache.path} and retrying in the background`,
  ];
  // Another token (its scope may resolve to other values) or another API (its positions mean
  // nothing here): the values are still better than none, but only a snapshot can replace them.
  const doubts = [
    ...(cached.sameToken ? [] : ['under another token']),
    ...(cached.api === wanted.api ? [] : [`for the API at ${cached.api}`]),
  ];
  if (doubts.length)
    warnings.push(
      `The last-known-good file ${cache.path} was written ${doubts.join(' and ')}: serving its values until the API answers, then loading a fresh snapshot instead of resuming from its position`,
    );
  if (cached.unreadable.length)
    warnings.push(
      `The last-known-good file holds sensitive values sealed under another token (${cached.unreadable.join(', ')}): they stay masked until the API answers`,
    );
  // Resuming the stream from the file's position only brings what changed since; a file that
  // lacks keys (written for fewer keys) or values (another token's) needs a snapshot instead.
  // A file written before flags (or while the API had none) holds no flags to resume from either.
  const needSnapshot =
    doubts.length > 0 ||
    cached.unreadable.length > 0 ||
    !covers(cached.request.keys, wanted.keys) ||
    cached.flags === undefined;
  return { ok: true, cached, needSnapshot, warnings };
}

function refuse(message: string, warnings: string[] = []): FileStart {
  return { ok: false, message, warnings };
}

/**
 * Whether the file's values are for the environment and guild wanted. One named explicitly is
 * compared with what the API resolved for the file (a file of the server's default environment
 * `production` serves `env: 'production'`); the server's default is compared as a request, as it
 * cannot be known before the API answers.
 */
function sameTarget(cached: CachedValues, wanted: CacheRequest): boolean {
  const env = wanted.env === null ? cached.request.env === null : wanted.env === cached.resolved.environment;
  const guild =
    wanted.guild === null ? cached.request.guild === null : wanted.guild === cached.resolved.guild;
  return env && guild;
}

function describe(request: CacheRequest): string {
  return `env ${request.env ?? '(default)'} and guild ${request.guild ?? '(none)'}`;
}

function covers(fileKeys: string[] | null, wanted: string[] | null): boolean {
  if (fileKeys === null) return true;
  return wanted !== null && wanted.every((key) => fileKeys.includes(key));
}

/** A message goes on one log line, whatever a parser put in it. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
