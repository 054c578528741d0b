import {
  version as djsVersion,
  type Client,
  type GatewayInteractionCreateDispatch,
  type Status,
} from 'discord.js';

export interface GatewayInjector {
  status: Status;
  handlePacket(packet: GatewayInteractionCreateDispatch, shard?: unknown): boolean;
}

/** The discord.js version the offline harness was written and tested against (package.json pins it). */
export const TESTED_DISCORD_JS = '14.28.1';

/**
 * The gateway packet handler of a client's WebSocketManager. It is private in discord.js's
 * typings, which is why package.json pins discord.js exactly: if an update moves it, this fails
 * at once with what to do, rather than every offline interaction silently going nowhere.
 */
export function gatewayOf(client: Client): GatewayInjector {
  const ws = client.ws as unknown as Partial<GatewayInjector>;
  if (typeof ws.handlePacket !== 'function' || !('status' in ws)) {
    throw new Error(
      `discord.js ${djsVersion}: the offline harness needs WebSocketManager.handlePacket and .status, which this version does not have (tested with ${TESTED_DISCORD_JS}). Pin discord.js to ${TESTED_DISCORD_JS} in package.json, or adapt src/offline/gateway.ts to the new gateway internals.`,
    );
  }
  return ws as GatewayInjector;
}
