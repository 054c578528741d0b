import { UserError } from '../base/errors.js';
import { preview } from '../base/text.js';
import {
  EXPORT_FORMAT,
  fileSchema,
  FORMAT_VERSION,
  MAX_DEPTH,
  MAX_ENTRIES,
  MAX_FILE_BYTES,
  MAX_KEYS,
  MAX_STRING,
  type ExportFile,
} from './export-file.js';

const refuse = (why: string): never => {
  throw new UserError(
    'INVALID_VALUE',
    `Not an export file this bot can import: ${why}. Nothing was changed.`,
  );
};

/**
 * Reads an export file, refusing (one message, nothing else done) a file over 1 MB, not UTF-8
 * JSON, nested deeper than a configuration needs, with `__proto__`-like names, strings over 16 KB,
 * more than 1,000 values, another shape or another format version.
 */
export function parseExportFile(content: string | Uint8Array): ExportFile {
  const bytes = typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
  if (bytes > MAX_FILE_BYTES)
    refuse(`it is ${bytes} bytes, more than the ${MAX_FILE_BYTES} bytes (1 MB) an import reads`);
  let text = '';
  try {
    text = typeof content === 'string' ? content : new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    refuse('it is not UTF-8 text');
  }
  // Before JSON.parse: a hostile file must not get to build a deep structure at all.
  const depth = nestingDepth(text);
  if (depth > MAX_DEPTH) refuse(`it is nested ${depth} levels deep (at most ${MAX_DEPTH})`);
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    refuse('it is not valid JSON');
  }
  scanValues(raw);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return refuse('it is not a JSON object');
  const head = raw as Record<string, unknown>;
  if (head.format !== EXPORT_FORMAT) refuse(`its "format" is not "${EXPORT_FORMAT}"`);
  if (head.formatVersion !== FORMAT_VERSION)
    refuse(
      `it has format version ${preview(JSON.stringify(head.formatVersion) ?? 'none', 20)}; this bot reads version ${FORMAT_VERSION}`,
    );
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map(String).join('.') || 'the file';
    return refuse(`${preview(where, 80)}: ${issue?.message ?? 'wrong shape'}`);
  }
  const keys = Object.keys(parsed.data.keys);
  if (keys.length > MAX_KEYS) refuse(`it has ${keys.length} keys (at most ${MAX_KEYS})`);
  const entries = keys.reduce((n, k) => n + Object.keys(parsed.data.keys[k]?.values ?? {}).length, 0);
  if (entries > MAX_ENTRIES) refuse(`it has ${entries} values (at most ${MAX_ENTRIES})`);
  return parsed.data;
}

/** The deepest nesting of arrays and objects in JSON text, counted without parsing it. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** Walks a parsed file (without recursion) refusing prototype-polluting names and huge strings. */
function scanValues(root: unknown): void {
  const stack: unknown[] = [root];
  let seen = 0;
  while (stack.length) {
    const v = stack.pop();
    if (++seen > MAX_ENTRIES * 20) refuse(`it holds more than ${MAX_ENTRIES * 20} values`);
    if (typeof v === 'string' && v.length > MAX_STRING)
      refuse(`it holds a string of ${v.length} characters (at most ${MAX_STRING})`);
    if (typeof v !== 'object' || v === null) continue;
    for (const [name, child] of Object.entries(v)) {
      if (FORBIDDEN_NAMES.has(name)) refuse(`it uses the name "${name}", which is never a setting`);
      if (name.length > MAX_STRING) refuse(`it holds a name of ${name.length} characters`);
      stack.push(child);
    }
  }
}

// ---- planning an import --------------------------------------------------------------------
