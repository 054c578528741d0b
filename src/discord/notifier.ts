import {
  Routes,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  type APIMessage,
  type REST,
} from 'discord.js';
import { fitMessage } from './limits.js';

/** A message the bot posts and later edits (a change request in the approval channel). */
export interface ChannelMessage {
  content?: string;
  embeds?: APIEmbed[];
  /** `[]` on an edit removes the buttons. */
  components?: APIActionRowComponent<APIComponentInMessageActionRow>[];
}

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
  /** Posts one message (fitted to Discord's limits, pinging no one); returns its id. */
  send(channelId: string, message: ChannelMessage): Promise<string>;
  /** Replaces what a message the bot posted shows (fields left out are kept). */
  edit(channelId: string, messageId: string, message: ChannelMessage): Promise<void>;
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
