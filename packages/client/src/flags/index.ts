/**
 * `@config-bot/client/flags`: the flag engine for the server, which stores, validates and
 * evaluates flags with the same code the client evaluates them with. It imports zod as a package
 * (the server's own), unlike the client's bundle (docs/client.md).
 */
export * from './evaluate.js';
export * from './model.js';
export { conditionText, conditionValues, overridesText, parseOverrides } from './describe.js';
export { ENVIRONMENT_NAME } from './names.js';
export { isOn } from './reasons.js';
export { flagSchema, formatIssues, parseFlag, type FlagParse } from './schema.js';
export { compileRegex, parseAddress, parseDate, parseNumber, parseSemver } from './values.js';
