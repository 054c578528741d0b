import type { Connection } from 'mongoose';

/** An open change stream on new versions; close() ends it. */
export interface VersionWatch {
  close(): Promise<void>;
}

/** Whether the server offers change streams (a replica set: `hello` names its set). */
export async function supportsChangeStreams(conn: Connection): Promise<boolean> {
  try {
    const hello = (await conn.db?.admin().command({ hello: 1 })) as { setName?: string } | undefined;
    return Boolean(hello?.setName);
  } catch {
    return false;
  }
}

/**
 * Follows inserts into config_versions (every committed version of every slot) on a change
 * stream: `onVersion` for each, `onError` once if the stream fails (it is closed then). Throws
 * when the connection has no database handle yet.
 */
export function watchVersions(
  conn: Connection,
  onVersion: (slot: string, version: number) => void,
  onError: (err: unknown) => void,
): VersionWatch {
  const collection = conn.db?.collection('config_versions');
  if (!collection) throw new Error('no database handle');
  const stream = collection.watch<{ key: string; version: number }>([
    { $match: { operationType: 'insert' } },
  ]);
  stream.on('change', (change) => {
    if (change.operationType !== 'insert') return;
    onVersion(change.fullDocument.key, change.fullDocument.version);
  });
  stream.on('error', (err) => {
    void stream.close().catch(() => undefined);
    onError(err);
  });
  return { close: () => stream.close() };
}
