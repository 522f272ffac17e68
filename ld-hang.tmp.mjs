import postgres from 'postgres';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
const sql = postgres({ host: '127.0.0.1', port: 33990, username: 'scratch', password: 'scratch-pw', database: 'scratch', max: 2, onnotice: () => {} });
await sql.unsafe('DROP TABLE IF EXISTS hang_t; CREATE TABLE hang_t (v text CHECK (v <> \'bad\'))');
const started = Date.now();
const timer = setTimeout(() => { console.log('plain postgres.js writable: still waiting after 10 s (the hang)'); process.exit(0); }, 10000);
try {
  await sql.begin(async (tx) => {
    const target = await tx.unsafe('COPY hang_t (v) FROM STDIN').writable();
    await pipeline(Readable.from([Buffer.from('ok\nbad\n')]), target);
    console.log('pipeline resolved?!');
  });
} catch (e) { console.log('failed after', Date.now() - started, 'ms:', e.message); }
clearTimeout(timer);
await sql.end();
