import type { APIMessage } from 'discord.js';
import { messageFrom } from './payloads.js';
import { snowflake } from './simulated.js';

/** The messages the bot created in the offline Discord, and which interaction's reply each is. */
export class OfflineMessages {
  /** Messages the bot created, by id. */
  readonly byId = new Map<string, APIMessage>();
  private readonly tokenMessage = new Map<string, string>();

  constructor(private readonly applicationId: string) {}

  /** The message a button is on answers the button's interaction (update, deferUpdate...). */
  bind(token: string, messageId: string): void {
    this.tokenMessage.set(token, messageId);
  }

  /** The message an interaction's reply created or edited, as Discord would now show it. */
  of(token: string): APIMessage | undefined {
    const id = this.tokenMessage.get(token);
    return id ? this.byId.get(id) : undefined;
  }

  /** A new message, in `channelId` (interaction replies: channel 0). */
  add(data: Partial<APIMessage>, channelId = '0'): APIMessage {
    const msg = messageFrom(data, { ...this.ids(), channelId });
    this.byId.set(msg.id, msg);
    return msg;
  }

  /** The reply of an interaction. */
  create(token: string, data: Partial<APIMessage>): APIMessage {
    const msg = this.add(data);
    this.tokenMessage.set(token, msg.id);
    return msg;
  }

  /** An interaction's message edited (created when it has none yet). */
  edit(token: string, data: Partial<APIMessage>): APIMessage {
    const current = this.of(token);
    if (!current) return this.create(token, data);
    return this.replace(current, data);
  }

  /** A message as an edit leaves it, stored. */
  replace(current: APIMessage, data: Partial<APIMessage>): APIMessage {
    const next = this.edited(current, data);
    this.byId.set(next.id, next);
    return next;
  }

  /** A message as an edit would leave it (fields the edit leaves out keep their value). */
  edited(current: APIMessage | undefined, data: Partial<APIMessage>): APIMessage {
    if (!current) return messageFrom(data, this.ids());
    const loading = ((current.flags ?? 0) & 128) !== 0;
    return {
      ...current,
      ...(data.content !== undefined ? { content: data.content } : loading ? { content: '' } : {}),
      ...(data.embeds !== undefined ? { embeds: data.embeds } : {}),
      ...(data.components !== undefined ? { components: data.components } : {}),
      flags: (current.flags ?? 0) & ~128,
      edited_timestamp: new Date().toISOString(),
    };
  }

  private ids() {
    return { id: snowflake(), channelId: '0', applicationId: this.applicationId };
  }
}
