import { UserError } from '../../base/errors.js';
import { errorDetail, logger } from '../../base/logger.js';
import { MAX_FILE_BYTES } from '../../transfer/export-file.js';
import { preview } from '../../base/text.js';

/** What Discord says of an uploaded file (`resolved.attachments` of the interaction). */
export interface AttachmentRef {
  name: string;
  url: string;
  size: number;
}

const tooLarge = (name: string, bytes: number | string) =>
  new UserError(
    'TOO_LONG',
    `${preview(name, 60)} is ${bytes} bytes; an import reads at most ${MAX_FILE_BYTES} bytes (1 MB). Nothing was changed.`,
  );

/**
 * Downloads an attachment from the URL Discord gave, refusing a file over `limit` bytes twice:
 * from the size Discord reported, before any request, and while reading, whatever the server
 * announced. Gives up after `timeoutMs`. Every failure is a UserError that names the file.
 */
export async function downloadAttachment(
  a: AttachmentRef,
  opts: { limit?: number; timeoutMs?: number } = {},
): Promise<Uint8Array> {
  const limit = opts.limit ?? MAX_FILE_BYTES;
  if (a.size > limit) throw tooLarge(a.name, a.size);
  const unreachable = (why: string) =>
    new UserError(
      'UNAVAILABLE',
      `Could not download ${preview(a.name, 60)} from Discord (${why}); upload it again. Nothing was changed.`,
    );
  const url = new URL(a.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw unreachable('not an http(s) address');
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
  } catch (err) {
    logger.warn(`Download of attachment ${a.name} failed`, errorDetail(err));
    throw unreachable('no answer');
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw unreachable(`HTTP ${res.status}`);
  }
  const announced = Number(res.headers.get('content-length') ?? NaN);
  if (announced > limit) {
    await res.body.cancel();
    throw tooLarge(a.name, announced);
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel();
        throw tooLarge(a.name, `more than ${limit}`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    logger.warn(`Download of attachment ${a.name} broke off`, errorDetail(err));
    throw unreachable('the download broke off');
  }
  return Buffer.concat(chunks);
}
