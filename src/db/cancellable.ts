// Cancelling a running query on the server when the user aborts (DDL or an UPDATE over millions of
// rows takes a while). postgres.js queries are lazy: a query not yet awaited has not been sent, so
// an already-aborted signal means it never runs.
import { CancelledError } from '../errors.js';

/** Runs `query`, cancelling it server-side when `signal` aborts; refuses at once if it already has. */
export async function cancellable<T>(query: PromiseLike<T> & { cancel(): void }, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return query;
  if (signal.aborted) {
    query.cancel();
    throw new CancelledError();
  }
  const onAbort = () => query.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await query;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
