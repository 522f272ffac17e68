// The data step's checks at scale, before and after, in one run on one host: on a staging loaded
// from a large demo production, the code of a baseline commit and of this checkout each (1) read
// production's PII (the anonymizer's dictionary; after: together with the leak scan's), (2) verify
// (row counts, orphans, constraints, leak scan, users per role) and (3) back up staging and prove
// the backup restores. Both run against the same production snapshot and the same staging.
// Target (issue 11): verify no slower than the load.
//
// Usage: node bench/verify-scale.mjs [demoUsers=200000] [subsetUsers=20000] [--baseline REF] [--reuse] [--after-only]
//   --baseline REF  the "before" code (default 29b0560, the commit before set-based verification);
//                   it is extracted into bench/.baseline/<sha> and compiled there once.
//   --after-only    skip the baseline code in this process; "before" is then the phases of the data
//                   step that loaded staging (run it with the baseline's bin/rehearse for that).
//   --reuse         keep using the stack, demo and loaded staging of an earlier run in the work folder
//                   (BENCH_DIR, default /tmp/rehearse-bench-verify); otherwise setup + demo + data run first.
// Needs `npm run build`, the stand-in images and ~5 GB of disk. The stack stays up for --reuse; remove it
// with `rehearse down --volumes --yes --no-backup && rehearse demo --down --yes` in the work folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--baseline'));
const demoUsers = Number(positional[0] ?? 200_000);
const subsetUsers = Number(positional[1] ?? 20_000);
const baselineRef = option('--baseline', '29b0560');
const workDir = process.env.BENCH_DIR ?? '/tmp/rehearse-bench-verify';
const project = process.env.BENCH_PROJECT ?? 'rehearse-bench-sv';
const base = Number(process.env.BENCH_PORT_BASE ?? 47000);
const env = { ...process.env, REHEARSE_IMAGES: process.env.REHEARSE_IMAGES ?? 'local', CI: 'true' };
const bin = path.join(root, 'bin/rehearse');
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const run = (cmd, argv, opts = {}) => {
  const r = spawnSync(cmd, argv, { cwd: workDir, env, encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

// 1. The baseline code, compiled once from REF.
const sha = execFileSync('git', ['-C', root, 'rev-parse', '--short', baselineRef], { encoding: 'utf8' }).trim();
const baselineDir = path.join(root, 'bench/.baseline', sha);
if (!existsSync(path.join(baselineDir, 'dist/src/cli.js'))) {
  mkdirSync(baselineDir, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${root}" archive ${sha} | tar -x -C "${baselineDir}"`]);
  if (!existsSync(path.join(baselineDir, 'node_modules'))) symlinkSync(path.join(root, 'node_modules'), path.join(baselineDir, 'node_modules'));
  execFileSync('npx', ['tsc', '-p', '.'], { cwd: baselineDir, stdio: 'inherit' });
}

// 2. A large production and a staging loaded from it by this checkout's data step.
const newestSummary = () => {
  const dir = path.join(workDir, 'staging-backups');
  const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('test-data-summary-')).sort() : [];
  return names.length ? JSON.parse(readFileSync(path.join(dir, names.at(-1)), 'utf8')) : undefined;
};
if (!flag('--reuse')) {
  mkdirSync(workDir, { recursive: true });
  const ports = { app: base + 1, https: base + 2, http: base + 3, postgres: base + 4, redis: base + 5, pgadmin: base + 6, prometheus: base + 7, grafana: base + 8 };
  const volumes = Object.fromEntries(['postgres', 'redis', 'prometheus', 'grafana', 'pgadmin'].map((v) => [v, `${project}_${v}_data`]));
  // A long statement timeout: on a busy host the demo's big reads outlast the default minute.
  const config = { project, ports, volumes, demo: { port: base + 10 }, production: { statementTimeoutMs: 1_800_000 }, data: { caps: { reading_progress: 100 } } };
  writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify(config));
  let t = performance.now();
  run(bin, ['setup', '--yes']);
  run(bin, ['demo', '--users', String(demoUsers)]);
  console.log(`setup + demo (${demoUsers.toLocaleString('en-US')} users): ${seconds(performance.now() - t)}`);
  t = performance.now();
  run(bin, ['data', '--yes', '--max-users', String(subsetUsers)]);
  console.log(`rehearse data --max-users ${subsetUsers}: ${seconds(performance.now() - t)}`);
}
let summary = newestSummary();
if (flag('--no-summary')) summary = undefined; // for a staging whose data step is still running its checks
else if (!summary?.ok) throw new Error(`No successful data summary in ${workDir}/staging-backups: run without --reuse first.`);
if (summary) {
  const stagingRows = Object.values(summary.rowsPerTable).reduce((a, b) => a + b, 0);
  console.log(`staging: ${stagingRows.toLocaleString('en-US')} rows (data step of ${summary.finishedAt}, code ${summary.rehearseVersion}); its phases (ms): ${JSON.stringify(summary.timingsMs)}`);
}

// 3. Both versions, back to back, on one snapshot and one staging.
const load = async (dir) => {
  const m = async (p) => import(path.join(dir, 'dist/src', p));
  return {
    config: await m('config.js'), production: await m('production.js'), demo: await m('demo/demo-db.js'), introspect: await m('subset/introspect.js'),
    guards: await m('data/guards.js'), verify: await m('data/verify.js'), backup: await m('backup.js'), restore: await m('restore.js'), staging: await m('staging-db.js'),
    pii: await m('data/pii-dictionary.js').catch(() => undefined),
  };
};
const before = await load(baselineDir);
const after = await load(root);
const { config } = after.config.loadConfig({ cwd: workDir, env });
const prod = after.production.openProduction(after.demo.demoConnectionUrl(config), { statementTimeoutMs: 1_800_000, max: 1 });
const snap = await after.production.openSnapshot(prod);
const staging = after.staging.stagingSql(config, { max: 3, statementTimeoutMs: 0 });
const openDatabase = (db) => after.staging.stagingSql(config, { max: 2, database: db });
const schemas = config.data.schemas;
const shape = await after.introspect.introspect(snap.tx, schemas);
const types = await after.guards.readColumnTypes(snap.tx, schemas);
const rules = after.config.effectiveRules(config);
const wantNames = after.guards.usesScrub(rules);
// The plan as the data step recorded it (its seed users are only counted there, so the
// learners-to-migrate minimum is not re-checked here; every other check runs in full).
// Without a summary (--no-summary) the plan is staging's own counts: the row-count check then only times.
const planned = summary
  ? summary.plan.map((t) => ({ table: t.table, rows: t.rows }))
  : await Promise.all([...shape.tables.keys()].map(async (table) => ({ table, rows: (await staging.unsafe(`SELECT count(*)::int AS n FROM ${shape.tables.get(table).qualified}`))[0].n })));
const plan = { tables: planned, totalRows: planned.reduce((s, t) => s + t.rows, 0), usersByRole: summary?.usersByRole ?? {}, seedUsers: [] };
const seed = summary?.seed ?? (await (await import(path.join(root, 'dist/src/subset/seed.js'))).resolveSeed(snap.tx, shape, config.data.seed));
if (!summary) console.log(`staging: ${plan.totalRows.toLocaleString('en-US')} rows (no data summary: before = the phases of the data step run with the baseline, printed when it ends)`);
const verifyOpts = { schemas, rules, seed, stagingEmailDomain: 'staging.local', columnTypes: types };

const timed = async (fn) => {
  const t = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t };
};
const results = {};
try {
  // Before: the anonymizer's read, then verify (which reads production again for its dictionary).
  const b = (results.before = {});
  if (flag('--after-only')) {
    // The data step's own phases: its load included the anonymizer's read.
    const t = summary?.timingsMs ?? {};
    Object.assign(b, { read: { ms: 0 }, verify: { ms: t.verify }, backup: { ms: 0 }, proof: { ms: t.restoreProof }, fromSummary: true });
  } else {
  b.read = await timed(() => before.guards.readPiiDictionary(snap.tx, shape, types, rules, wantNames));
  b.verify = await timed(() => before.verify.verifyLoad(staging, snap.tx, shape, plan, verifyOpts));
  b.backup = await timed(() => before.backup.backupStaging(config));
  b.proof = await timed(() => before.restore.proveRestore(config, staging, openDatabase, b.backup.value.file));
  }

  // After: one read for both, then verify against the dictionary already in staging.
  const a = (results.after = {});
  const session = await staging.reserve();
  let sources;
  a.read = await timed(async () => {
    sources = after.pii.dictionarySources(shape, rules, await after.guards.detectorProposals(snap.tx, shape, types));
    return after.pii.readProductionPii(snap.tx, shape, { anonymizer: { types, rules, wantNames }, leak: { sources, staging: session, stagingEmailDomain: 'staging.local' } });
  });
  const slowest = [];
  a.verify = await timed(() =>
    after.verify.verifyLoad(staging, snap.tx, shape, plan, { ...verifyOpts, dictionary: { session, sources, stats: a.read.value.leak }, onColumn: (c) => slowest.push(c) }),
  );
  await after.pii.dropDictionary(session);
  session.release();
  a.backup = await timed(() => after.backup.backupStaging(config));
  a.proof = await timed(() => after.restore.proveRestore(config, staging, openDatabase, a.backup.value));
  a.slowest = slowest.sort((x, y) => y.ms - x.ms).slice(0, 5);
} finally {
  await snap.close();
  await prod.end({ timeout: 2 });
  await staging.end({ timeout: 2 });
}

// 4. Same verdicts, then the figures.
const verdicts = (checks) => checks.map((c) => `${c.name}: ${c.ok ? 'ok' : 'FAILED'}`).join('; ');
const { before: b, after: a } = results;
if (b.fromSummary) {
  // Before = the data step's phases (its backup is inside restoreProof, its anonymizer read inside load).
  if (!a.verify.value.every((c) => c.ok) || !a.proof.value.ok) throw new Error(`A check failed: ${verdicts(a.verify.value)}`);
  const la = a.verify.value.find((c) => c.name.startsWith('leak scan')).data;
  console.log(`checks: ${verdicts(a.verify.value)}`);
  console.log(`leak dictionary: ${la.dictionary.entries.toLocaleString('en-US')} hashed values from ${la.dictionary.valuesRead.toLocaleString('en-US')} production values; ${la.columnsScanned} staging columns scanned`);
  const row = (name, x, y) => console.log(`${name.padEnd(58)} ${(x === undefined ? '' : seconds(x)).padStart(9)} ${seconds(y).padStart(9)}${x ? `   ${(y / x).toFixed(2)}×` : ''}`);
  console.log(`${''.padEnd(58)} ${'before'.padStart(9)} ${'after'.padStart(9)}`);
  row('production PII read (after: anonymizer + leak, in load)', undefined, a.read.ms);
  row('verify', b.verify.ms, a.verify.ms);
  row('  leak scan of staging only', undefined, la.scanMs);
  row('backup + restore proof', b.proof.ms, a.backup.ms + a.proof.ms);
  console.log(`slowest columns after: ${a.slowest.map((c) => `${c.column} ${seconds(c.ms)}`).join(', ')}`);
  const loadMs = summary?.timingsMs.load ?? NaN;
  console.log(`load phase (before, incl. the anonymizer's read): ${seconds(loadMs)}; verify after = ${(a.verify.ms / loadMs).toFixed(2)}× (target ≤ 1): ${a.verify.ms <= loadMs ? 'MET' : 'NOT MET'}`);
  process.exit(0);
}
if (verdicts(b.verify.value) !== verdicts(a.verify.value)) throw new Error(`The checks disagree:\n  before: ${verdicts(b.verify.value)}\n  after:  ${verdicts(a.verify.value)}`);
if (!b.proof.value.ok || !a.proof.value.ok) throw new Error('A restore proof failed.');
// The shared read gives the anonymizer exactly what its own read gave.
for (const k of ['nameTokens', 'phoneDigits', 'ipAddresses']) {
  const [x, y] = [b.read.value[k] ?? new Set(), a.read.value.anonymizer[k]];
  const missing = [...x].filter((v) => !y.has(v)).length;
  const extra = [...y].filter((v) => !x.has(v)).length;
  console.log(`anonymizer ${k}: ${x.size.toLocaleString('en-US')} before, ${y.size.toLocaleString('en-US')} after${missing || extra ? ` (${missing} missing, ${extra} extra)` : ', identical'}`);
}
const leak = (v) => v.value.find((c) => c.name.startsWith('leak scan')).data;
const [lb, la] = [leak(b.verify), leak(a.verify)];
if (lb.dictionary.entries !== la.dictionary.entries || lb.total !== la.total) throw new Error(`The leak scans differ: ${lb.dictionary.entries} vs ${la.dictionary.entries} entries, ${lb.total} vs ${la.total} hits`);
console.log(`checks (both): ${verdicts(a.verify.value)}`);
console.log(`leak dictionary: ${la.dictionary.entries.toLocaleString('en-US')} hashed values from ${la.dictionary.valuesRead.toLocaleString('en-US')} production values; ${la.columnsScanned} staging columns scanned`);
const row = (name, x, y) => console.log(`${name.padEnd(52)} ${seconds(x).padStart(9)} ${seconds(y).padStart(9)}   ${(y / x).toFixed(2)}×`);
console.log(`${''.padEnd(52)} ${'before'.padStart(9)} ${'after'.padStart(9)}`);
row('production PII read in the load phase (after: +leak)', b.read.ms, a.read.ms);
row('verify (before: reads production again)', b.verify.ms, a.verify.ms);
row('  leak scan of staging only', lb.scanMs, la.scanMs);
row('read + verify', b.read.ms + b.verify.ms, a.read.ms + a.verify.ms);
row('backup of the loaded staging', b.backup.ms, a.backup.ms);
row('restore proof (scratch restore + fingerprints)', b.proof.ms, a.proof.ms);
row('backup + restore proof', b.backup.ms + b.proof.ms, a.backup.ms + a.proof.ms);
console.log(`slowest columns after: ${a.slowest.map((c) => `${c.column} ${seconds(c.ms)}`).join(', ')}`);
const loadMs = summary.timingsMs.load;
console.log(`load phase of the data step: ${seconds(loadMs)}; verify after = ${(a.verify.ms / loadMs).toFixed(2)}× the load (target ≤ 1): ${a.verify.ms <= loadMs ? 'MET' : 'NOT MET'}`);
