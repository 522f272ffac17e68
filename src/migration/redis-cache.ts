// Cached per-user entries in Redis (roles, sessions) that a migration makes stale. Key patterns come
// from config: "{userId}" stands for the user's id and "*" for any text, e.g. "session:{userId}:*".
import type { Redis } from 'ioredis';
import { CancelledError } from '../errors.js';

const GLOB_SPECIAL = /[?[\]\\]/g;
const REGEX_SPECIAL = /[.+?^${}()|[\]\\]/g;

/** The SCAN MATCH glob of a pattern: every user's keys. */
export function scanGlob(pattern: string): string {
  return pattern
    .split('{userId}')
    .map((part) => part.replace(GLOB_SPECIAL, (c) => `\\${c}`))
    .join('*');
}

/** A matcher that pulls the user id out of a key, or null when the key is not of this pattern. */
export function keyMatcher(pattern: string): (key: string) => string | null {
  const source = pattern
    .split('{userId}')
    .map((part) => part.split('*').map((p) => p.replace(REGEX_SPECIAL, '\\$&')).join('.*'))
    .join('(.+?)');
  const re = new RegExp(`^${source}$`);
  return (key) => re.exec(key)?.[1] ?? null;
}

/** A concrete key of a pattern for one user ("*" filled with `filler`). */
export function keyFor(pattern: string, userId: string, filler = 'rehearse'): string {
  return pattern.split('{userId}').join(userId).split('*').join(filler);
}

export interface InvalidationResult {
  patterns: string[];
  /** Keys that matched a pattern. */
  scanned: number;
  /** Of those, keys of users the run changed: deleted. */
  deleted: number;
  /** Keys of changed users still there after deletion (must be 0). */
  stale: number;
  ms: number;
}

async function scanAll(redis: Redis, glob: string, signal?: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    if (signal?.aborted) throw new CancelledError();
    const [next, batch] = await redis.scan(cursor, 'MATCH', glob, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Every key matching a pattern, by the user id in it. */
export async function cachedKeysByUser(redis: Redis, patterns: string[], signal?: AbortSignal): Promise<Map<string, string[]>> {
  const byUser = new Map<string, string[]>();
  for (const pattern of patterns) {
    const match = keyMatcher(pattern);
    for (const key of await scanAll(redis, scanGlob(pattern), signal)) {
      const id = match(key);
      if (id === null) continue;
      byUser.set(id, [...(byUser.get(id) ?? []), key]);
    }
  }
  return byUser;
}

/**
 * Deletes the cached keys of the users `changedAmong` picks out of the ids found in Redis, then scans
 * again to prove none is left. One pass over the key space, however many users changed.
 */
export async function invalidateCachedKeys(redis: Redis, patterns: string[], changedAmong: (ids: string[]) => Promise<Set<string>>, signal?: AbortSignal): Promise<InvalidationResult> {
  const start = performance.now();
  const before = await cachedKeysByUser(redis, patterns, signal);
  const changed = await changedAmong([...before.keys()]);
  const doomed = [...changed].flatMap((id) => before.get(id) ?? []);
  for (let i = 0; i < doomed.length; i += 500) await redis.unlink(...doomed.slice(i, i + 500));
  const after = await cachedKeysByUser(redis, patterns, signal);
  const stale = [...changed].reduce((n, id) => n + (after.get(id)?.length ?? 0), 0);
  return { patterns, scanned: [...before.values()].reduce((n, k) => n + k.length, 0), deleted: doomed.length, stale, ms: Math.round(performance.now() - start) };
}
