import { keyName, type AppliedChange } from './memory.js';

type Listener = (change: AppliedChange) => void | Promise<void>;

interface Subscription {
  keys: ReadonlySet<string> | undefined;
  listener: Listener;
}

/** The application's `subscribe` listeners; one that throws or rejects never stops the others. */
export class Listeners {
  private readonly subscriptions = new Set<Subscription>();

  /** Listens to `keys`, in any case (every key when undefined); returns the function that unsubscribes. */
  add(keys: readonly string[] | undefined, listener: Listener): () => void {
    const sub: Subscription = { keys: keys ? new Set(keys.map(keyName)) : undefined, listener };
    this.subscriptions.add(sub);
    return () => void this.subscriptions.delete(sub);
  }

  notify(change: AppliedChange, failed: (key: string, err: unknown) => void): void {
    for (const sub of this.subscriptions) {
      if (sub.keys && !sub.keys.has(change.key)) continue;
      try {
        const result = sub.listener(change);
        if (result instanceof Promise) result.catch((err: unknown) => failed(change.key, err));
      } catch (err) {
        failed(change.key, err);
      }
    }
  }

  clear(): void {
    this.subscriptions.clear();
  }
}
