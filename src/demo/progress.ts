// Progress events of `rehearse demo` (bring-up and load), for whichever renderer the CLI picked,
// and the throttle that keeps a million-user load from emitting an event per chunk.
import type { DemoTable } from './generator.js';

export type DemoStep = 'workspace' | 'start' | 'connect' | 'reuse' | 'schema' | 'load' | 'constraints' | 'analyze' | 'done' | 'cleanup';

export type DemoProgress =
  /** A step began (or, for 'reuse' and 'done', happened); `detail` is one human line. */
  | { type: 'step'; step: DemoStep; detail: string }
  /** A line from `docker compose` (secrets already redacted). */
  | { type: 'compose'; line: string }
  /**
   * Rows streamed so far: for `table` (its `index` of `tables`), and overall against the estimate.
   * `done` marks the table's last event, with its exact count.
   */
  | {
      type: 'rows';
      table: DemoTable;
      index: number;
      tables: number;
      rows: number;
      done: boolean;
      totalRows: number;
      estimatedTotalRows: number;
      rowsPerSecond: number;
    };

export type DemoProgressListener = (event: DemoProgress) => void;

/** Calls `fn` at most once per `intervalMs`, plus whenever `force` is set. */
export function throttle(intervalMs: number, now: () => number = () => performance.now()) {
  let last = -Infinity;
  return (fn: () => void, force = false): void => {
    const t = now();
    if (!force && t - last < intervalMs) return;
    last = t;
    fn();
  };
}
