import type {
  GuildMemberFlags,
  RoleFlags,
  APIInteractionDataResolved,
  APIInteractionDataResolvedGuildMember,
  APIRole,
} from 'discord-api-types/v10';
import {
  apiUser,
  ATTACHMENT_SIZE_LIMIT,
  MEMBER_PERMISSIONS,
  PayloadError,
  type Simulated,
} from './simulated.js';

/** The `resolved` part of a command's data: the users, members and roles its options name. */
export class Resolver {
  readonly data: APIInteractionDataResolved = {};

  constructor(private readonly sim: Simulated) {}

  user(id: string): void {
    const self = id === this.sim.user.id;
    const known = self ? { username: this.sim.user.username, roles: this.sim.roles } : this.sim.members?.[id];
    const username = known?.username ?? `user-${id.slice(-6)}`;
    (this.data.users ??= {})[id] = apiUser({ id, username });
    if (this.sim.guildId === null) return;
    (this.data.members ??= {})[id] = {
      roles: [...(known?.roles ?? [])],
      premium_since: null,
      joined_at: new Date(0).toISOString(),
      permissions: self ? this.sim.permissions : MEMBER_PERMISSIONS,
      avatar: null,
      flags: 0 as GuildMemberFlags,
      communication_disabled_until: null,
      pending: false,
    } as APIInteractionDataResolvedGuildMember;
  }

  role(id: string): void {
    (this.data.roles ??= {})[id] = {
      id,
      name: `role-${id.slice(-6)}`,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      position: 1,
      permissions: '0',
      managed: false,
      mentionable: false,
      flags: 0 as RoleFlags,
    } as APIRole;
  }

  /** A file the user picked: Discord uploads it first, and sends its id with the file in `attachments`. */
  attachment(option: string, name: string): string {
    const file = this.sim.files?.[name];
    if (!file || !Object.hasOwn(this.sim.files ?? {}, name)) {
      const known = Object.keys(this.sim.files ?? {});
      throw new PayloadError(
        `${option}: no file "${name}" was uploaded${known.length ? ` (uploaded: ${known.join(', ')})` : ''}`,
      );
    }
    if (file.size > ATTACHMENT_SIZE_LIMIT)
      throw new PayloadError(
        `${option}: ${file.size} bytes is more than Discord lets a user attach (${ATTACHMENT_SIZE_LIMIT})`,
      );
    (this.data.attachments ??= {})[file.id] = file;
    return file.id;
  }

  get empty(): boolean {
    return !this.data.users && !this.data.roles && !this.data.attachments;
  }
}
