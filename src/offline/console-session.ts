import {
  ApplicationCommandOptionType,
  ComponentType,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  type APIMessage,
  type APIApplicationCommandOptionChoice,
  type APIModalInteractionResponseCallbackData,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { CommandLineError, parseCommandLine, parseFieldValues } from './command-line.js';
import type { OfflineDiscord } from './harness.js';
import { modalFields, modalSubmitPayload } from './modal-payloads.js';
import { parametersOf } from './options.js';
import { autocompletePayload, buttonPayload, chatInputPayload } from './payloads.js';
import type { CallKind, CapturedCall } from './rest.js';
import { PayloadError, type CommandLine, type Simulated } from './simulated.js';
import { readLocalFile, UploadRefused } from './uploads.js';

/** One reply the bot sent, as a JSON-friendly object. */
export interface ReplyView {
  kind: CapturedCall['kind'];
  content?: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  flags?: number;
  allowedMentions?: unknown;
  choices?: APIApplicationCommandOptionChoice[];
  /** A modal the bot opened (kind `modal`): fill it in with `submit`. */
  modal?: APIModalInteractionResponseCallbackData;
}

/** Raised for lines the console itself cannot run (as opposed to the bot refusing them). */
export class ConsoleInputError extends Error {
  override name = 'ConsoleInputError';
}

/**
 * A simulated Discord user typing into the offline harness: runs command lines, presses
 * buttons of the last reply, asks for autocomplete choices.
 */
export class ConsoleSession {
  private lastMessage: APIMessage | undefined;
  /** The modal the last interaction opened, until it is submitted (Discord closes it then). */
  private openModal: APIModalInteractionResponseCallbackData | undefined;
  /** Files picked with attach() that no command has sent yet, oldest first. */
  private readonly picked: string[] = [];

  constructor(
    readonly discord: OfflineDiscord,
    public sim: Simulated,
  ) {}

  /**
   * Runs a command line. An attachment option given as `@path` sends that local file; one left
   * out takes the oldest file picked with attach() and not sent yet.
   */
  async run(line: string): Promise<ReplyView[]> {
    const parsed = this.parse(line);
    const def = this.definition(parsed.command);
    await this.pickFiles(def, parsed);
    const payload = this.wrap(() => chatInputPayload(this.sim, def, parsed));
    const calls = await this.discord.dispatch(payload);
    this.remember(payload.token, calls);
    return calls.map(toView);
  }

  /**
   * Picks a local file as the user would in Discord's file picker: it is uploaded (served on
   * loopback like Discord's CDN) and named in a command line by its file name (`file:NAME`).
   * Returns that name.
   */
  async attach(filePath: string): Promise<string> {
    let local: Awaited<ReturnType<typeof readLocalFile>>;
    try {
      local = await readLocalFile(filePath);
    } catch (err) {
      if (err instanceof UploadRefused) throw new ConsoleInputError(err.message);
      throw err;
    }
    const { name, content, contentType } = local;
    const file = await this.discord.uploads.add(name, content, { contentType });
    this.sim = { ...this.sim, files: { ...this.sim.files, [name]: file } };
    this.unpick(name);
    this.picked.push(name);
    return name;
  }

  async complete(line: string): Promise<APIApplicationCommandOptionChoice[]> {
    const parsed = this.parse(line);
    const def = this.definition(parsed.command);
    const names = Object.keys(parsed.options);
    const focused = names.at(-1);
    if (!focused)
      throw new ConsoleInputError('Give the option being typed, e.g. complete "/config view setting:MAX"');
    const payload = this.wrap(() => autocompletePayload(this.sim, def, parsed, focused));
    const calls = await this.discord.dispatch(payload);
    const result = calls.find((c) => c.kind === 'autocomplete');
    return (result?.body?.choices as APIApplicationCommandOptionChoice[] | undefined) ?? [];
  }

  /** Presses a button of the last reply, by label (case-insensitive) or custom id. */
  async press(labelOrId: string): Promise<ReplyView[]> {
    if (!this.lastMessage) throw new ConsoleInputError('No reply with buttons yet');
    return this.pressOn(this.lastMessage, labelOrId);
  }

  /** Presses a button of a given message (as it was when this user saw it). */
  async pressOn(message: APIMessage, labelOrId: string): Promise<ReplyView[]> {
    const buttons = buttonsOf(message);
    const wanted = labelOrId.trim().toLowerCase();
    const button =
      buttons.find((b) => b.customId === labelOrId.trim()) ??
      buttons.find((b) => b.label.toLowerCase() === wanted);
    if (!button) {
      const list = buttons.map((b) => b.label).join(', ') || 'none';
      throw new ConsoleInputError(`No button "${labelOrId}" on the last reply (buttons: ${list})`);
    }
    if (button.disabled) throw new ConsoleInputError(`Button ${button.label} is disabled`);
    const payload = buttonPayload(this.sim, message, button.customId);
    const calls = await this.discord.dispatch(payload);
    this.remember(payload.token, calls);
    return calls.map(toView);
  }

  /**
   * Submits the modal the last interaction opened, with `values` by field custom id (a field not
   * given keeps its prefilled text), as the raw MODAL_SUBMIT Discord would send; `values` may also
   * be a console line: `value:"{...}" reason:"why"`.
   */
  async submit(values: Readonly<Record<string, string>> | string = {}): Promise<ReplyView[]> {
    const modal = this.openModal;
    if (!modal) throw new ConsoleInputError('No form is open: nothing to submit');
    const typed = typeof values === 'string' ? this.wrapLine(() => parseFieldValues(values)) : values;
    const payload = this.wrap(() => modalSubmitPayload(this.sim, modal, typed));
    this.openModal = undefined;
    const calls = await this.discord.dispatch(payload);
    this.remember(payload.token, calls);
    return calls.map(toView);
  }

  /** The modal waiting to be submitted, if any. */
  currentModal(): APIModalInteractionResponseCallbackData | undefined {
    return this.openModal;
  }

  /** True when the last reply waits for its Confirm button (a rollback or a reset). */
  awaitsConfirmation(): boolean {
    const msg = this.current();
    return Boolean(msg && buttonsOf(msg).some((b) => !b.disabled && b.label.toLowerCase() === 'confirm'));
  }

  /** The newest state of the message the last reply created (edits by timers included). */
  current(): APIMessage | undefined {
    return this.lastMessage ? this.discord.messages.get(this.lastMessage.id) : undefined;
  }

  private remember(token: string, calls: readonly CapturedCall[]): void {
    const msg = this.discord.messageOf(token);
    if (msg) this.lastMessage = msg;
    const modal = calls.find((c) => c.kind === 'modal' && c.token === token);
    if (modal) this.openModal = modal.body as unknown as APIModalInteractionResponseCallbackData;
  }

  /** Uploads the `@path` files of the line's attachment options and fills one left out. */
  private async pickFiles(
    def: RESTPostAPIChatInputApplicationCommandsJSONBody,
    line: CommandLine,
  ): Promise<void> {
    const params = this.wrap(() => parametersOf(def, line));
    for (const p of params) {
      if (p.type !== ApplicationCommandOptionType.Attachment) continue;
      const raw = line.options[p.name];
      const name = raw?.startsWith('@')
        ? await this.attach(raw.slice(1))
        : (raw ?? (p.required ? this.picked[0] : undefined));
      if (name === undefined) continue;
      line.options[p.name] = name;
      this.unpick(name);
    }
  }

  private unpick(name: string): void {
    const at = this.picked.indexOf(name);
    if (at >= 0) this.picked.splice(at, 1);
  }

  private parse(line: string) {
    return this.wrapLine(() => parseCommandLine(line));
  }

  private wrapLine<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof CommandLineError) throw new ConsoleInputError(err.message);
      throw err;
    }
  }

  private wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof PayloadError) throw new ConsoleInputError(err.message);
      throw err;
    }
  }

  private definition(name: string) {
    const command = this.discord.commands.get(name);
    if (!command)
      throw new ConsoleInputError(
        `Unknown command /${name}; known: ${[...this.discord.commands.keys()].map((c) => `/${c}`).join(', ')}`,
      );
    return command.data.toJSON();
  }
}

interface ButtonView {
  label: string;
  customId: string;
  disabled: boolean;
}

export function buttonsOf(message: Pick<APIMessage, 'components'>): ButtonView[] {
  const out: ButtonView[] = [];
  for (const row of message.components ?? []) {
    if (row.type !== ComponentType.ActionRow) continue;
    for (const c of row.components) {
      if (c.type === ComponentType.Button && 'custom_id' in c) {
        out.push({ label: c.label ?? c.custom_id, customId: c.custom_id, disabled: Boolean(c.disabled) });
      }
    }
  }
  return out;
}

/** Calls that show or change the message an interaction answers with (its reply, or the message a button is on). */
const OWN_MESSAGE: ReadonlySet<CallKind> = new Set(['reply', 'update', 'editReply']);

/**
 * The replies of one exchange as the user is left seeing them: a message and its later edits
 * (a write's reply edited to say which processes applied it) are one reply in its final form, at
 * the place the message first appeared. Each edit changes only the fields it sends, as on Discord.
 */
export function finalViews(calls: readonly CapturedCall[]): ReplyView[] {
  const merged: CapturedCall[] = [];
  const place = new Map<string, number>();
  for (const call of calls) {
    const own = call.token !== undefined && OWN_MESSAGE.has(call.kind);
    const at = own ? place.get(call.token ?? '') : undefined;
    const earlier = at === undefined ? undefined : merged[at];
    if (at === undefined || !earlier) {
      if (own) place.set(call.token ?? '', merged.length);
      merged.push(call);
    } else merged[at] = { ...call, body: { ...earlier.body, ...call.body } };
  }
  return merged.map(toView);
}

function toView(call: CapturedCall): ReplyView {
  const b = call.body ?? {};
  if (call.kind === 'modal')
    return {
      kind: 'modal',
      embeds: [],
      components: [],
      modal: b as unknown as APIModalInteractionResponseCallbackData,
    };
  return {
    kind: call.kind,
    ...(typeof b.content === 'string' && b.content ? { content: b.content } : {}),
    embeds: (b.embeds as APIEmbed[] | undefined) ?? [],
    components: (b.components as ReplyView['components'] | undefined) ?? [],
    ...(typeof b.flags === 'number' ? { flags: b.flags } : {}),
    ...(b.allowed_mentions ? { allowedMentions: b.allowed_mentions } : {}),
    ...(b.choices ? { choices: b.choices as APIApplicationCommandOptionChoice[] } : {}),
  };
}

/** A reply as readable text for a terminal. */
export function renderText(view: ReplyView): string {
  if (view.kind === 'defer') return '(thinking…)';
  if (view.kind === 'deferUpdate') return '(updating…)';
  if (view.modal) return modalText(view.modal);
  const lines: string[] = [];
  if (view.content) lines.push(view.content);
  for (const e of view.embeds) {
    if (e.title) lines.push(`== ${e.title} ==`);
    if (e.description) lines.push(e.description);
    for (const f of e.fields ?? []) lines.push(`${f.name}: ${f.value.replace(/\n/g, '\n  ')}`);
    if (e.image?.url) lines.push(`[image: ${e.image.url.replace(/^attachment:\/\//, '')}]`);
    if (e.footer?.text) lines.push(`-- ${e.footer.text}`);
  }
  const buttons = buttonsOf({ components: view.components as APIMessage['components'] });
  if (buttons.length)
    lines.push(buttons.map((b) => `[${b.label}${b.disabled ? ' (disabled)' : ''}]`).join(' '));
  for (const c of view.choices ?? []) lines.push(`  ${String(c.value)}  —  ${c.name}`);
  return terminalText(lines.join('\n'));
}

/** A form as text: its title, each field with what it holds, and how to send it. */
function modalText(modal: APIModalInteractionResponseCallbackData): string {
  const lines = [`== Form: ${modal.title} ==`];
  for (const f of modalFields(modal)) {
    lines.push(`${f.label} [${f.customId}${f.required ? '' : ', optional'}, at most ${f.maxLength}]:`);
    lines.push(f.value ? `  ${f.value.replace(/\n/g, '\n  ')}` : '  (empty)');
  }
  lines.push('-- submit field:"text" ... to send it (a field left out keeps what it holds)');
  return lines.join('\n');
}

/**
 * What Discord would display, as plain text: markdown escapes and the zero-width spaces that
 * break mentions are removed, and <t:UNIX:f> timestamps (rendered by Discord in the reader's
 * time zone) become UTC text.
 */
function terminalText(text: string): string {
  return undoEscapes(text)
    .replace(/\u200b/g, '')
    .replace(/ \(<t:\d+:R>\)/g, '')
    .replace(
      /<t:(\d+):[tTdDfFR]>/g,
      (_, s: string) => `${new Date(Number(s) * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`,
    );
}

/** Inline code and code blocks, where Discord shows backslashes as they are. */
const CODE_SPAN = /(`+)([\s\S]*?[^`])\1(?!`)/y;

/**
 * Undoes markdown escapes as Discord's renderer does: a backslash before any character that is
 * not a letter, a digit or whitespace (`0\.85`, `\*`, `\_`) shows only that character, except
 * inside code, which is shown as typed.
 */
export function undoEscapes(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '`') {
      CODE_SPAN.lastIndex = i;
      const code = CODE_SPAN.exec(text);
      const run = code?.[0] ?? /`+/y.exec(text.slice(i))?.[0] ?? c;
      out += run;
      i += run.length;
    } else if (c === '\\' && i + 1 < text.length && /[^0-9A-Za-z\s]/.test(text[i + 1] ?? '')) {
      out += text[i + 1];
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
