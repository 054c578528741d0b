import {
  DiscordAPIError,
  MessageFlags,
  RESTJSONErrorCodes,
  type APIActionRowComponent,
  type APIApplicationCommandOptionChoice,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type JSONEncodable,
  type ModalSubmitInteraction,
} from 'discord.js';
import { logger } from '../base/logger.js';
import { fitMessage } from './fit.js';

/** Every reply is private to the admin who asked, and pings no one whatever it quotes. */
export const REPLY_DEFAULTS = { flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;

type Row = APIActionRowComponent<APIComponentInMessageActionRow>;

/** A reply as handlers build it: plain JSON or discord.js builders. */
export interface Reply {
  content?: string;
  embeds?: readonly (APIEmbed | JSONEncodable<APIEmbed>)[];
  components?: readonly (Row | JSONEncodable<Row>)[];
}

type Repliable = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

const json = <T extends object>(x: T | JSONEncodable<T>): T =>
  'toJSON' in x && typeof x.toJSON === 'function' ? (x as JSONEncodable<T>).toJSON() : (x as T);

/**
 * The one place a reply is made to fit Discord's limits (content 2,000, embeds 6,000 in all,
 * 25 fields of 1,024, titles 256, custom ids 100...) before it is sent: whatever the data, the
 * bot never sends what Discord would refuse. Everything below goes through it.
 */
export function fitted(m: Reply): { content?: string; embeds?: APIEmbed[]; components?: Row[] } {
  return fitMessage({
    ...(m.content !== undefined ? { content: m.content } : {}),
    ...(m.embeds ? { embeds: m.embeds.map((e) => json(e)) } : {}),
    ...(m.components ? { components: m.components.map((c) => json(c)) } : {}),
  });
}

/**
 * Sends an interaction's first response (a reply, a deferral, an update). Discord answering
 * 40060 "already acknowledged" means an earlier try of this same call reached it and only its
 * answer was lost: discord.js sends a request again after its timeout or a dropped connection,
 * and nothing else answers this interaction. The interaction is then marked as answered the way
 * it was asked to be, and the handler carries on (its next step edits that answer) instead of
 * leaving the user with "thinking…".
 */
export async function firstResponse(
  i: Repliable,
  send: () => Promise<unknown>,
  as: 'deferred' | 'replied',
  ephemeral?: boolean,
): Promise<void> {
  try {
    await send();
  } catch (err) {
    if (!(
      err instanceof DiscordAPIError && err.code === RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged
    ))
      throw err;
    logger.warn(`Discord had acknowledged interaction ${i.id} already (an earlier try's answer was lost)`);
    if (as === 'deferred') i.deferred = true;
    else i.replied = true;
    if (ephemeral !== undefined) i.ephemeral = ephemeral;
  }
}

export async function reply(i: Repliable, m: Reply): Promise<void> {
  await firstResponse(i, () => i.reply({ ...fitted(m), ...REPLY_DEFAULTS }), 'replied', true);
}

export async function editReply(i: Repliable, m: Reply): Promise<void> {
  await i.editReply({ ...fitted(m), allowedMentions: REPLY_DEFAULTS.allowedMentions });
}

export async function followUp(i: Repliable, m: Reply): Promise<void> {
  await i.followUp({ ...fitted(m), ...REPLY_DEFAULTS });
}

/** Replaces the message a button is on. */
export async function update(i: ButtonInteraction, m: Reply): Promise<void> {
  await firstResponse(
    i,
    () => i.update({ ...fitted(m), allowedMentions: REPLY_DEFAULTS.allowedMentions }),
    'replied',
  );
}

/** Sends a reply the right way for the interaction's state: reply, editReply or followUp. */
export async function respond(i: Repliable, m: Reply): Promise<void> {
  if (i.deferred && !i.replied) await editReply(i, m);
  else if (i.replied) await followUp(i, m);
  else await reply(i, m);
}

/** Autocomplete interactions whose choices were sent (or are being sent): they take one answer. */
const answered = new WeakSet<AutocompleteInteraction>();

/**
 * Autocomplete choices, fitted like replies (25 choices, names and values of 100). Sent once: a
 * handler that finishes after the dispatcher answered for it (see AUTOCOMPLETE_DEADLINE_MS)
 * sends nothing.
 */
export async function choices(
  i: AutocompleteInteraction,
  list: APIApplicationCommandOptionChoice[],
): Promise<void> {
  if (answered.has(i) || i.responded) return;
  answered.add(i);
  await i.respond(fitMessage({ choices: list }).choices ?? []);
}
