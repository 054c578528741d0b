import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Routes, type APIMessage, type REST } from 'discord.js';
import { errorDetail, logger } from '../base/logger.js';
import type { Notifier } from '../jobs/notifier.js';
import { fitMessage } from './fit.js';
import { isTransientDiscordError } from './rest-errors.js';

/** Discord takes at most 10 attachments per message: more are spread over several messages. */
const MAX_FILES = 10;

/**
 * Makes a post idempotent: discord.js sends a request again when its answer is lost (a timeout,
 * a dropped connection, a 5xx), and Discord may have created the message already. With
 * `enforce_nonce`, Discord returns that message for the same nonce instead of posting a second
 * one (an approval message or an alert twice). One nonce per message, at most 25 characters.
 */
const once = () => ({ nonce: randomBytes(12).toString('base64url'), enforce_nonce: true });

/**
 * Waits before each new try of a post or edit that Discord did not take (5xx, no answer) once
 * discord.js's own retries are spent: an alert or an approval message outlives a short outage
 * instead of being dropped. The same request is sent again, nonce included, so a try that
 * reached Discord is not posted twice.
 */
const BACKOFF_MS = [1000, 2000, 4000, 8000];

async function patiently<T>(what: string, send: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      const wait = BACKOFF_MS[attempt];
      if (wait === undefined || !isTransientDiscordError(err)) throw err;
      logger.warn(`Discord did not take ${what}; trying again in ${wait / 1000} s`, errorDetail(err));
      await sleep(wait);
    }
  }
}

export function restNotifier(rest: REST): Notifier {
  return {
    async post(channelId, content, files = [], components = []) {
      const groups = files.length ? chunk(files, MAX_FILES) : [[]];
      for (const [i, group] of groups.entries()) {
        const request = {
          body: {
            content: fitMessage({ content: i === 0 ? content : `(${i + 1}/${groups.length})` }).content,
            allowed_mentions: { parse: [] },
            ...once(),
            ...(i === 0 && components.length ? { components } : {}),
          },
          files: group.map((f) => ({ name: f.name, data: f.data })),
        };
        await patiently(`a post in channel ${channelId}`, () =>
          rest.post(Routes.channelMessages(channelId), request),
        );
      }
    },
    async send(channelId, message) {
      const request = { body: { ...fitMessage({ ...message }), allowed_mentions: { parse: [] }, ...once() } };
      const sent = (await patiently(`a post in channel ${channelId}`, () =>
        rest.post(Routes.channelMessages(channelId), request),
      )) as APIMessage;
      return sent.id;
    },
    async edit(channelId, messageId, message) {
      const request = { body: { ...fitMessage({ ...message }), allowed_mentions: { parse: [] } } };
      await patiently(`an edit of message ${messageId}`, () =>
        rest.patch(Routes.channelMessage(channelId, messageId), request),
      );
    },
  };
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
