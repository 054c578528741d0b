import { Routes, type APIMessage, type REST } from 'discord.js';
import type { Notifier } from '../jobs/notifier.js';
import { fitMessage } from './fit.js';

/** Discord takes at most 10 attachments per message: more are spread over several messages. */
const MAX_FILES = 10;

export function restNotifier(rest: REST): Notifier {
  return {
    async post(channelId, content, files = [], components = []) {
      const groups = files.length ? chunk(files, MAX_FILES) : [[]];
      for (const [i, group] of groups.entries()) {
        await rest.post(Routes.channelMessages(channelId), {
          body: {
            content: fitMessage({ content: i === 0 ? content : `(${i + 1}/${groups.length})` }).content,
            allowed_mentions: { parse: [] },
            ...(i === 0 && components.length ? { components } : {}),
          },
          files: group.map((f) => ({ name: f.name, data: f.data })),
        });
      }
    },
    async send(channelId, message) {
      const sent = (await rest.post(Routes.channelMessages(channelId), {
        body: { ...fitMessage({ ...message }), allowed_mentions: { parse: [] } },
      })) as APIMessage;
      return sent.id;
    },
    async edit(channelId, messageId, message) {
      await rest.patch(Routes.channelMessage(channelId, messageId), {
        body: { ...fitMessage({ ...message }), allowed_mentions: { parse: [] } },
      });
    },
  };
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
