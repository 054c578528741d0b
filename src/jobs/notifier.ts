import type { APIActionRowComponent, APIComponentInMessageActionRow, APIEmbed } from 'discord-api-types/v10';

// What jobs and the bot's own posts (alerts, change requests) need of a chat channel, declared
// here so that jobs need nothing of the Discord side; src/discord/notifier.ts implements it.

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
