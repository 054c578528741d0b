import type { Connection } from 'mongoose';

/** An open change stream on the change log's tail; close() ends it. */
export interface TailWatch {
  close(): Promise<void>;
}

/**
 * Whether the server can offer change streams: a replica set (`hello` names its set) or a
 * sharded cluster (`hello` says `isdbgrid`). A standalone mongod and FerretDB cannot.
 */
export async function supportsChangeStreams(conn: Connection): Promise<boolean> {
  try {
    const hello = (await conn.db?.admin().command({ hello: 1 })) as
      { setName?: string; msg?: string } | undefined;
    return Boolean(hello?.setName) || hello?.msg === 'isdbgrid';
  } catch {
    return false;
  }
}

/**
 * Follows writes to the change log's tail (config_change_tail: every published entry) on a
 * change stream: `onEntry` for each (the caller then reads the tail, from its own position), and
 * `onError` once if the stream fails or the server refuses it (it is closed then). Throws when
 * the connection has no database handle yet.
 */
export function watchTail(conn: Connection, onEntry: () => void, onError: (err: unknown) => void): TailWatch {
  const collection = conn.db?.collection('config_change_tail');
  if (!collection) throw new Error('no database handle');
  const stream = collection.watch([{ $match: { operationType: { $in: ['insert', 'replace', 'update'] } } }]);
  let failed = false;
  stream.on('change', () => onEntry());
  stream.on('error', (err) => {
    if (failed) return;
    failed = true;
    void stream.close().catch(() => undefined);
    onError(err);
  });
  return { close: () => stream.close() };
}
