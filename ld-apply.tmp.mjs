import postgres from 'postgres';
import { execa } from 'execa';
const { prepareSchemaSql, readProductionFacts, catalogSummary } = await import('/work/wt/load/dist/src/data/schema-copy.js');
const schemas = ['public', 'app'];
const prod = postgres({ host: '127.0.0.1', port: 33990, username: 'scratch', password: 'scratch-pw', database: 'scratch', max: 1, onnotice: () => {} });
await prod.unsafe('DROP DATABASE IF EXISTS stag').catch(() => {});
await prod.unsafe('CREATE DATABASE stag');
const { stdout } = await execa('docker', ['exec', 'rehearse-test-ld-scratch', 'pg_dump', '-U', 'scratch', '--schema-only', '--no-owner', '--no-privileges', '-n', 'public', '-n', 'app', 'scratch']);
const sqlText = stdout.replace(/^\\(restrict|unrestrict)\b.*$/gm, '').replace(/set_config\('search_path', '', false\)/g, "set_config('search_path', '', true)");
console.log(sqlText.split('\n').filter((l) => /CREATE SCHEMA|COMMENT ON SCHEMA|EXTENSION/.test(l)));
let facts;
await prod.begin(async (tx) => (facts = await readProductionFacts(tx, schemas)));
const stag = postgres({ host: '127.0.0.1', port: 33990, username: 'scratch', password: 'scratch-pw', database: 'stag', max: 1, onnotice: () => {} });
const q = (s) => `"${s}"`;
await stag.begin(async (tx) => {
  for (const s of schemas) await tx.unsafe(`DROP SCHEMA IF EXISTS ${q(s)} CASCADE`);
  for (const s of schemas) await tx.unsafe(`CREATE SCHEMA ${q(s)}`);

  for (const e of facts.extensions) { await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${q(e.schema)}`); await tx.unsafe(`CREATE EXTENSION IF NOT EXISTS ${q(e.name)} WITH SCHEMA ${q(e.schema)}`); }
  await tx.unsafe(prepareSchemaSql(sqlText, schemas));
});
const a = await catalogSummary(prod, schemas), b = await catalogSummary(stag, schemas);
for (const k of Object.keys(a)) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) console.log('DIFF', k, a[k].filter((x) => !b[k].includes(x)), b[k].filter((x) => !a[k].includes(x)));
await stag.end(); await prod.end();
