// Small inline SVG charts for the readiness report: no script, no font beyond the page's own, so
// the HTML stays one self-contained file that renders the same in any browser or headless Chromium.

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (x: number) => (x === 0 ? '0' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** A "nice" axis maximum at or above `max` (1, 2, 2.5 or 5 times a power of ten). */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const pow = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * pow >= max) return m * pow;
  return 10 * pow;
}

export interface BarSeries {
  name: string;
  color: string;
  values: number[];
}

/** Grouped vertical bars: one group per category, one bar per series, value labels on top. */
export function groupedBarChart(opts: { title: string; unit: string; categories: string[]; series: BarSeries[]; threshold?: { value: number; label: string } }): string {
  const width = 640;
  const height = 260;
  const left = 56;
  const bottom = 40;
  const top = 34;
  const plotW = width - left - 16;
  const plotH = height - top - bottom;
  const max = niceMax(Math.max(...opts.series.flatMap((s) => s.values), opts.threshold?.value ?? 0));
  const groupW = plotW / Math.max(1, opts.categories.length);
  const barW = Math.min(36, (groupW * 0.8) / Math.max(1, opts.series.length));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    parts.push(`<line x1="${left}" x2="${width - 16}" y1="${y(v)}" y2="${y(v)}" stroke="#d0d7de" stroke-width="1"/>`, `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#57606a">${fmt(v)}</text>`);
  }
  opts.categories.forEach((cat, i) => {
    const x0 = left + i * groupW + (groupW - barW * opts.series.length) / 2;
    opts.series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const x = x0 + j * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${s.color}"><title>${esc(`${s.name}, ${cat}: ${fmt(v)} ${opts.unit}`)}</title></rect>`);
      parts.push(`<text x="${(x + (barW - 3) / 2).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#24292f">${fmt(v)}</text>`);
    });
    parts.push(`<text x="${(left + i * groupW + groupW / 2).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle" font-size="12" fill="#24292f">${esc(cat)}</text>`);
  });
  if (opts.threshold) {
    const ty = y(opts.threshold.value);
    parts.push(`<line x1="${left}" x2="${width - 16}" y1="${ty}" y2="${ty}" stroke="#cf222e" stroke-dasharray="6 4" stroke-width="1.5"/>`, `<text x="${width - 18}" y="${ty - 4}" text-anchor="end" font-size="11" fill="#cf222e">${esc(opts.threshold.label)}</text>`);
  }
  const legend = opts.series.map((s, j) => `<rect x="${left + j * 130}" y="${height - 14}" width="10" height="10" fill="${s.color}"/><text x="${left + j * 130 + 14}" y="${height - 5}" font-size="11" fill="#24292f">${esc(s.name)}</text>`);
  return svg(width, height, opts.title, [...parts, ...legend, axisTitle(opts.unit)]);
}

/** Horizontal bars, one per labelled value (e.g. time per phase). */
export function horizontalBarChart(opts: { title: string; unit: string; bars: Array<{ label: string; value: number; color?: string }> }): string {
  const rowH = 22;
  const left = 190;
  const width = 640;
  const height = 30 + rowH * opts.bars.length + 10;
  const max = niceMax(Math.max(0, ...opts.bars.map((b) => b.value)));
  const plotW = width - left - 70;
  const parts = opts.bars.map((b, i) => {
    const y = 26 + i * rowH;
    const w = Math.max(1, (b.value / max) * plotW);
    return (
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end" font-size="12" fill="#24292f">${esc(b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label)}</text>` +
      `<rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 7}" fill="${b.color ?? '#0969da'}"><title>${esc(`${b.label}: ${fmt(b.value)} ${opts.unit}`)}</title></rect>` +
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 14}" font-size="11" fill="#24292f">${fmt(b.value)} ${esc(opts.unit)}</text>`
    );
  });
  return svg(width, height, opts.title, parts);
}

/** A step line per series over time (ms), e.g. backends waiting for a lock while `up` and `down` ran. */
export function stepLineChart(opts: { title: string; unit: string; series: Array<{ name: string; color: string; points: Array<[number, number]> }> }): string {
  const width = 640;
  const height = 220;
  const left = 48;
  const top = 30;
  const bottom = 42;
  const plotW = width - left - 16;
  const plotH = height - top - bottom;
  const maxT = Math.max(1, ...opts.series.flatMap((s) => s.points.map((p) => p[0])));
  const maxV = niceMax(Math.max(1, ...opts.series.flatMap((s) => s.points.map((p) => p[1]))));
  const x = (t: number) => left + (t / maxT) * plotW;
  const y = (v: number) => top + plotH - (v / maxV) * plotH;
  const parts: string[] = [];
  for (let t = 0; t <= 2; t++) {
    const v = (maxV * t) / 2;
    parts.push(`<line x1="${left}" x2="${width - 16}" y1="${y(v)}" y2="${y(v)}" stroke="#d0d7de"/>`, `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#57606a">${fmt(v)}</text>`);
  }
  parts.push(`<text x="${left}" y="${height - bottom + 16}" font-size="11" fill="#57606a">0 ms</text>`, `<text x="${width - 16}" y="${height - bottom + 16}" text-anchor="end" font-size="11" fill="#57606a">${fmt(maxT)} ms</text>`);
  for (const s of opts.series) {
    if (!s.points.length) continue;
    let d = `M${x(s.points[0]![0]).toFixed(1)},${y(s.points[0]![1]).toFixed(1)}`;
    for (const [t, v] of s.points.slice(1)) d += `H${x(t).toFixed(1)}V${y(v).toFixed(1)}`;
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"><title>${esc(s.name)}</title></path>`);
  }
  const legend = opts.series.map((s, j) => `<rect x="${left + j * 150}" y="${height - 14}" width="10" height="10" fill="${s.color}"/><text x="${left + j * 150 + 14}" y="${height - 5}" font-size="11" fill="#24292f">${esc(s.name)}</text>`);
  return svg(width, height, opts.title, [...parts, ...legend, axisTitle(opts.unit)]);
}

const axisTitle = (unit: string) => `<text x="8" y="16" font-size="11" fill="#57606a">${esc(unit)}</text>`;

function svg(width: number, height: number, title: string, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif"><title>${esc(title)}</title>${parts.join('')}</svg>`;
}
