// `rehearse demo [--users N] [--seed S] [--reload]` and `rehearse demo --down`: the built-in
// "production" database, so the whole flow can be tried without a real production system.
import type { Config } from '../config.js';
import { demoDown, demoNames, demoUp } from '../demo/demo-db.js';
import type { DemoProgress } from '../demo/progress.js';
import { confirm, finish, type Ui } from './ui.js';

const n = (x: number) => x.toLocaleString('en-US');

function progressLine(event: DemoProgress): string | undefined {
  if (event.type === 'step') return `› ${event.detail}`;
  if (event.type === 'compose') return `  ${event.line}`;
  if (event.done) return `  ${event.table}: ${n(event.rows)} rows (${n(Math.round(event.rowsPerSecond))} rows/s; ${Math.round((event.totalRows / Math.max(event.estimatedTotalRows, 1)) * 100)} % overall)`;
  return undefined;
}

export async function demoCommand(config: Config, opts: { users: number; seed: number; reload: boolean }, ui: Ui, signal: AbortSignal): Promise<void> {
  const emit = (event: DemoProgress) => {
    if (ui.json) process.stdout.write(JSON.stringify({ ...event, event: event.type, type: 'demo' }) + '\n');
    else {
      const line = progressLine(event);
      if (line) process.stderr.write(line + '\n');
    }
  };
  const result = await demoUp(config, { users: opts.users, seed: opts.seed, reload: opts.reload, signal, onProgress: emit });
  const { url: _secretUrl, ...printable } = result;
  finish(ui, {
    ok: true,
    fields: printable,
    text:
      `\nDemo production is up: ${result.displayUrl}\n` +
      `${n(result.users)} users (seed ${result.seed}), ${n(result.rows)} rows${result.loaded ? `, loaded in ${(result.ms / 1000).toFixed(1)} s` : ' (already loaded; kept)'}.\n` +
      'With no PRODUCTION_DATABASE_URL set, `rehearse data` reads from it (read-only).\n',
  });
}

export async function demoDownCommand(config: Config, ui: Ui, signal: AbortSignal): Promise<void> {
  const names = demoNames(config);
  await confirm(ui, {
    kind: 'dangerous',
    action: 'Removing the demo production database and its data',
    rows: [
      ['container', names.container],
      ['volume', names.volume],
      ['note', 'demo data only; staging and real production are not touched'],
    ],
    resourceName: 'demo',
  });
  const r = await demoDown(config, { volumes: true, signal, onLine: (line) => process.stderr.write(`  ${line}\n`) });
  if (r.rewrote.length) process.stderr.write(`docker-compose.demo.yml was written for project ${config.project} first: ${r.rewrote.join('; ')}.\n`);
  const removed = [r.container.removed && `container ${r.container.name}`, r.volume.removed && `volume ${r.volume.name} (its data)`].filter(Boolean);
  // Only what existed before and the engine no longer has is called removed.
  finish(ui, {
    ok: true,
    fields: { project: config.project, ...r },
    text: removed.length ? `Demo production of project ${config.project} removed: ${removed.join(', ')} (checked: gone).\n` : `Nothing to remove: project ${config.project} has no demo container or volume.\n`,
  });
}
