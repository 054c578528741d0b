import { readFileSync } from 'node:fs';
import { Client, Events, version, type BaseInteraction } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { gatewayOf, TESTED_DISCORD_JS } from '../../src/offline/gateway.js';
import { data } from '../../commands/config/index.js';
import { parseCommandLine } from '../../src/offline/command-line.js';
import { chatInputPayload } from '../../src/offline/payloads.js';
import { as } from '../helpers/discord.js';

// The offline harness feeds packets to a private discord.js method. These tests are the early
// warning: an update that moves it fails here, by name, instead of across every Discord test.
describe('the discord.js internals the offline harness relies on', () => {
  it('package.json pins discord.js to the exact version the harness was tested with', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['discord.js'], 'pin discord.js exactly (no ^ or ~)').toBe(TESTED_DISCORD_JS);
    expect(version, 'the installed discord.js is not the pinned one: run npm ci').toBe(TESTED_DISCORD_JS);
  });

  it('a raw INTERACTION_CREATE packet given to the gateway handler becomes an interaction event', () => {
    const client = new Client({ intents: [] });
    const gateway = gatewayOf(client);
    gateway.status = 0; // Status.Ready: handled at once, not queued
    const seen: BaseInteraction[] = [];
    client.on(Events.InteractionCreate, (i: BaseInteraction) => seen.push(i));
    const payload = chatInputPayload(as.admin(), data.toJSON(), parseCommandLine('/config list'));
    gateway.handlePacket({ op: 0, t: 'INTERACTION_CREATE', s: 1, d: payload } as never);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.isChatInputCommand() && seen[0].commandName).toBe('config');
    void client.destroy();
  });

  it('fails with what to do when the gateway handler is missing', () => {
    const client = new Client({ intents: [] });
    Object.defineProperty(client, 'ws', { value: {} });
    expect(() => gatewayOf(client)).toThrow(
      /needs WebSocketManager\.handlePacket.*Pin discord\.js to 14\.28\.1/,
    );
  });
});
