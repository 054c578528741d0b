import { PermissionFlagsBits, type APIAttachment, type APIUser } from 'discord-api-types/v10';
/** Who is typing, and where: a simulated guild member, or a user in a DM. */
export interface Simulated {
  applicationId: string;
  /** null: a direct message. */
  guildId: string | null;
  channelId: string;
  user: { id: string; username: string };
  /** Permission bits of the member in that channel (a decimal string, as Discord sends them). */
  permissions: string;
  roles: string[];
  /**
   * Other members of the server, by user id, as user options resolve them (name and roles);
   * a user not listed resolves as a member without roles.
   */
  members?: Readonly<Record<string, { username?: string; roles?: readonly string[] }>>;
  /**
   * Files the user has picked for attachment options, by the name typed as the option's value
   * (`file:config.json`); see OfflineDiscord.uploads, which serves them as Discord's CDN would.
   */
  files?: Readonly<Record<string, APIAttachment>>;
}

export const ADMIN_PERMISSIONS = String(PermissionFlagsBits.Administrator | PermissionFlagsBits.SendMessages);
export const MEMBER_PERMISSIONS = String(PermissionFlagsBits.SendMessages | PermissionFlagsBits.ViewChannel);

/** A command line after parsing: `/config set setting:X value:Y` is {command, subcommand, options}. */
export interface CommandLine {
  command: string;
  /** The subcommand group, when the subcommand is in one (`token` of `/config token create`). */
  group?: string;
  subcommand?: string;
  options: Record<string, string>;
}

export class PayloadError extends Error {
  override name = 'PayloadError';
}

/** The largest file a user may attach to an interaction (what Discord sends as attachment_size_limit). */
export const ATTACHMENT_SIZE_LIMIT = 8_388_608;

let counter = 0n;
/** Snowflake-shaped ids: a timestamp part and a counter, increasing like Discord's. */
export function snowflake(): string {
  counter += 1n;
  return String(((BigInt(Date.now()) - 1420070400000n) << 22n) | (counter & 0x3fffffn));
}

/** A user as Discord sends one. */
export function apiUser(u: Simulated['user']): APIUser {
  return { id: u.id, username: u.username, discriminator: '0', global_name: u.username, avatar: null };
}
