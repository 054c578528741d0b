import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, PermissionFlagsBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberAccess } from '../../src/discord/member-access.js';

// A Discord-shaped REST server on loopback: a guild whose @everyone has no permission, an admin
// role, and members with and without it. discord.js is pointed at it through its REST `api` option.
const GUILD = '300000000000000000';
const ADMIN_ROLE = '300000000000000001';
const ADMINISTRATOR_ROLE = '300000000000000002';
const members: Record<string, string[]> = {
  '400000000000000001': [ADMIN_ROLE],
  '400000000000000002': [],
  '400000000000000003': [ADMINISTRATOR_ROLE],
};
let down = false;
let server: Server;
let client: Client;

const role = (id: string, name: string, permissions: bigint) => ({
  id,
  name,
  permissions: String(permissions),
  position: 0,
  color: 0,
  hoist: false,
  managed: false,
  mentionable: false,
  flags: 0,
});

beforeAll(async () => {
  server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (down) return send(500, { message: 'Internal Server Error', code: 0 });
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path === `/api/v10/guilds/${GUILD}`)
      return send(200, {
        id: GUILD,
        name: 'Home',
        owner_id: '1',
        roles: [
          role(GUILD, '@everyone', 0n),
          role(ADMIN_ROLE, 'ops', 0n),
          role(ADMINISTRATOR_ROLE, 'boss', PermissionFlagsBits.Administrator),
        ],
        emojis: [],
        features: [],
      });
    const m = /^\/api\/v10\/guilds\/(\d+)\/members\/(\d+)$/.exec(path);
    const roles = m && m[1] === GUILD ? members[m[2] ?? ''] : undefined;
    if (roles)
      return send(200, {
        user: { id: m?.[2], username: 'someone', discriminator: '0', avatar: null },
        roles,
        joined_at: '2026-01-01T00:00:00.000Z',
        deaf: false,
        mute: false,
        flags: 0,
      });
    return send(404, { message: 'Unknown Member', code: 10007 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  client = new Client({ intents: [], rest: { api: `http://127.0.0.1:${port}/api`, retries: 0 } });
  client.rest.setToken('test-token');
});
afterAll(async () => {
  await client.destroy();
  await new Promise((r) => server.close(r));
});

describe("the panel's access, asked of Discord again (memberAccess)", () => {
  const check = () => memberAccess(client, { allowedGuildIds: [GUILD], adminRoleIds: [ADMIN_ROLE] });

  it('gives write to an admin role or Administrator, read to a member, none to someone who left', async () => {
    const access = check();
    expect(await access(GUILD, '400000000000000001')).toBe('write');
    expect(await access(GUILD, '400000000000000003')).toBe('write');
    expect(await access(GUILD, '400000000000000002')).toBe('read');
    expect(await access(GUILD, '400000000000000009')).toBe('none');
  });

  it('gives none for a server outside the allowlist, unless a self-service session of its Administrator', async () => {
    const access = memberAccess(client, { allowedGuildIds: [], adminRoleIds: [ADMIN_ROLE] });
    expect(await access(GUILD, '400000000000000001')).toBe('none');
    expect(await access(GUILD, '400000000000000003')).toBe('none');
    // Self-service: the server's Administrator keeps writing its own scope; an admin role is not enough.
    expect(await access(GUILD, '400000000000000003', true)).toBe('write');
    expect(await access(GUILD, '400000000000000001', true)).toBe('none');
  });

  it('keeps the session’s level (undefined) while Discord does not answer', async () => {
    down = true;
    try {
      expect(await check()(GUILD, '400000000000000002')).toBeUndefined();
    } finally {
      down = false;
    }
  });
});
