// Keeps unique production columns unique in staging: HMAC pseudonyms collide only rarely, and
// rarely is still a failed load.

/**
 * One per run, shared by every table's row anonymizer. `claim` records the values emitted for
 * a unique column and gives a colliding value a deterministic `-2`, `-3`… suffix; `lookup` lets
 * every other column (and free text) reuse that suffixed value for the same production input,
 * so joins on the column still work after a collision. Resolution depends on row order: COPY
 * with ORDER BY the primary key keeps it stable across runs.
 */
export class UniquenessRegistry {
  private readonly overrides = new Map<string, string>();
  private readonly emitted = new Map<string, Set<string>>();
  private collisionCount = 0;

  /** The suffixed output an earlier collision assigned to this production value, if any. */
  lookup(domain: string, raw: string): string | undefined {
    return this.overrides.size === 0 ? undefined : this.overrides.get(domain + '\0' + raw);
  }

  /** Returns `candidate`, or the first free `withSuffix(n)` for n = 2, 3, … if the column already holds it. */
  claim(columnKey: string, domain: string, raw: string, candidate: string, withSuffix: (n: number) => string): string {
    let seen = this.emitted.get(columnKey);
    if (!seen) this.emitted.set(columnKey, (seen = new Set()));
    if (!seen.has(candidate)) {
      seen.add(candidate);
      return candidate;
    }
    this.collisionCount++;
    let n = 2;
    let out = withSuffix(n);
    while (seen.has(out)) out = withSuffix(++n);
    seen.add(out);
    this.overrides.set(domain + '\0' + raw, out);
    return out;
  }

  /** How many values needed a suffix so far. */
  get collisions(): number {
    return this.collisionCount;
  }
}

/** `user-3f9a@staging.local` → `user-3f9a-2@staging.local`; anything else gets the suffix at the end. */
export function suffixValue(value: string, n: number): string {
  const at = value.lastIndexOf('@');
  return at > 0 ? `${value.slice(0, at)}-${n}${value.slice(at)}` : `${value}-${n}`;
}
