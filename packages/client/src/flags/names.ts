/**
 * Names shared by the server and the client library's flag engine. Pure (no imports), so that
 * src/flags can be loaded by an application without any of the bot's server code.
 */

/** Environment names: lower-case letters, digits and dashes (`production`, `eu-staging`). */
export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
