import {
  Routes,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type REST,
} from 'discord.js';
import { fitMessage } from './limits.js';

export interface Attachment {
  name: string;
  data: Buffer;
}

/** Posts to a channel through the bot's REST client (no gateway cache needed). */
export interface Notifier {
  /** `components` (buttons) go with the first message. */
  post(
    channelId: string,
    content: string,
    files?: Attachment[],
    components?: APIActionRowComponent<APIComponentInMessageActionRow>[],
  ): Promise<void>;
}

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
  };
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
