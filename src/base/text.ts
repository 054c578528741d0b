/**
 * The text helpers (`preview`, `visible`) live with the flag engine in @config-bot/client, whose
 * messages use them too; the server imports them from here.
 */
export { preview, visible } from '@config-bot/client/text';

/** What users see instead of a sensitive value, and what audit rows store in place of one. */
export const MASK = '••••••';
