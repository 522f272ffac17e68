import postgres from 'postgres';
import { readFileSync } from 'node:fs';
const { catalogSummary, readProductionFacts } = await import('/work/wt/load/dist/src/data/schema-copy.js');
const sql = postgres({ host: '127.0.0.1', port: 33990, username: 'scratch', password: 'scratch-pw', database: 'scratch', max: 1, onnotice: () => {} });
const [{ n }] = await sql`select count(*)::int n from pg_namespace where nspname='app'`;
if (!n) await sql.unsafe(readFileSync('/work/wt/load/test/fixtures/schema-objects/production.sql', 'utf8'));
console.log(JSON.stringify(await catalogSummary(sql, ['public', 'app']), null, 1));
await sql.begin(async (tx) => console.log(JSON.stringify(await readProductionFacts(tx, ['public', 'app']))));
await sql.end();
