import mongoose from 'mongoose';

const { MongoError } = mongoose.mongo;

/** True when a write was refused because a document with the same unique key exists. */
export const isDuplicateKeyError = (err: unknown): boolean => err instanceof MongoError && err.code === 11000;

/**
 * Inserts `doc` unless a document with its `_id` (or another unique key) exists: true when this
 * call inserted it. A unique insert is the one write both MongoDB and FerretDB arbitrate
 * atomically, so "who inserted first" is how concurrent processes agree on a winner.
 */
export async function insertIfAbsent(
  collection: { insertOne(doc: never): Promise<unknown> },
  doc: object,
): Promise<boolean> {
  try {
    await collection.insertOne(doc as never);
    return true;
  } catch (err) {
    if (isDuplicateKeyError(err)) return false;
    throw err;
  }
}
