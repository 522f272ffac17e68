// Number formatting for the wizard's panes. Kept free of React so it can be unit-tested alone
// and reused by plain (non-Ink) renderers.

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Bytes in binary units, as `docker stats` shows them: "512 B", "48.2 MiB", "23.4 GiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  let value = bytes;
  let unit = 0;
  // Step up while the value would print as 1024 or more, so 1023.96 KiB becomes "1.0 MiB", not "1024.0 KiB".
  while (unit < BINARY_UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${BINARY_UNITS[unit]}`;
}

/** A percentage with one decimal ("12.3%"); 100 means one full core, so values above 100 are normal. */
export function formatPercent(percent: number): string {
  if (!Number.isFinite(percent)) return '–';
  return `${Math.max(0, percent).toFixed(1)}%`;
}

/** A task's wall time: "420ms", "3.2s", "2m 05s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  // 59.95 s would round to "60.0s"; from there on the minutes form reads better.
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
}
