// Fitting the wizard into the terminal: how many lines a text takes once wrapped, and which slice
// of a long list to show around the line that matters (the running task), with "… N more" marks.
import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

/** Lines `text` takes at `width` columns with word wrapping (long words are broken, as Ink does). */
export function wrappedHeight(text: string, width: number): number {
  const w = Math.max(1, width);
  let lines = 0;
  for (const raw of text.split('\n')) {
    let used = 0;
    let count = 1;
    for (const word of raw.split(' ')) {
      const len = [...word].length;
      const need = used === 0 ? len : used + 1 + len;
      if (need <= w) used = need;
      else {
        count += used === 0 ? 0 : 1;
        used = len;
        while (used > w) {
          count += 1;
          used -= w;
        }
      }
    }
    lines += count;
  }
  return lines;
}

export interface ListWindow {
  start: number;
  end: number;
  above: number;
  below: number;
}

/**
 * The slice of `total` one-line rows to show in `max` lines, keeping `focus` in view; the marks
 * ("… N above", "… N more") take a line each and are counted in `max`.
 */
export function listWindow(total: number, max: number, focus: number): ListWindow {
  if (total <= max) return { start: 0, end: total, above: 0, below: 0 };
  const room = Math.max(1, max - 2);
  // Keep a little context before the focus and more after it: what comes next matters more.
  let start = Math.max(0, Math.min(focus - Math.floor(room / 3), total - room));
  let end = start + room;
  // A side without a mark gives its line back to the rows.
  if (start === 0) end = Math.min(total, end + 1);
  if (end === total) start = Math.max(0, start - 1);
  return { start, end, above: start, below: total - end };
}

/** Terminal size, refreshed on resize (Ink re-lays out on resize but does not re-render React). */
export function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 0 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stdout]);
  return size;
}
