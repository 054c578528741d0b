import { finalViews, type ConsoleSession, type ReplyView } from '../../src/offline/console-session.js';
import type { CapturedCall } from '../../src/offline/rest.js';
import { errorDetail } from '../../src/base/logger.js';
import type { SavedFiles } from './saved-files.js';

/** How replies are printed, and where the files they carry are saved. */
export interface Output {
  json: boolean;
  files: SavedFiles;
}

export interface SavedFile {
  name: string;
  path: string;
  bytes: number;
}

/** What one exchange with the bot left on screen: each reply in its final form, and the files saved. */
export interface Exchange {
  replies: ReplyView[];
  files: SavedFile[];
  /** Files that could not be saved, one line each. */
  unsaved: string[];
}

/** Runs `act` (a command, a press, a submit) and collects what the user is left seeing. */
export async function exchange(
  session: ConsoleSession,
  o: Output,
  act: () => Promise<unknown>,
): Promise<Exchange> {
  const from = session.discord.calls.length;
  await act();
  const calls = session.discord.calls.slice(from);
  return { replies: finalViews(calls), ...saveFiles(calls, o.files) };
}

export function saveFiles(
  calls: readonly CapturedCall[],
  files: SavedFiles,
): Pick<Exchange, 'files' | 'unsaved'> {
  const saved: SavedFile[] = [];
  const unsaved: string[] = [];
  for (const call of calls)
    (call.files ?? []).forEach((name, i) => {
      const data = call.fileData?.[i];
      if (!data) return;
      try {
        saved.push({ name, path: files.save(name, data), bytes: data.byteLength });
      } catch (err) {
        unsaved.push(`Could not save ${name} in ${files.dir}: ${String(errorDetail(err).error)}`);
      }
    });
  return { files: saved, unsaved };
}

export const savedLine = (f: SavedFile) => `Saved ${f.path} (${f.bytes} bytes)`;

/** The JSON fields of an exchange besides its replies. */
export function jsonFiles(x: Pick<Exchange, 'files' | 'unsaved'>): object {
  return {
    ...(x.files.length ? { files: x.files } : {}),
    ...(x.unsaved.length ? { errors: x.unsaved } : {}),
  };
}
