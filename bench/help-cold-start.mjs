// `rehearse --help` cold start beside `node -e 0` in the same run (target: under 300 ms).
// Usage: node bench/help-cold-start.mjs [runs]   (needs `npm run build` first)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, stats, timeCommand } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 20);
const node = [];
const help = [];
for (let i = 0; i < runs; i++) {
  // Interleaved, so both see the same machine load.
  node.push(timeCommand(process.execPath, ['-e', '0']));
  help.push(timeCommand(path.join(root, 'bin/rehearse'), ['--help']));
}
const n = stats(node);
const h = stats(help);
console.log(`runs: ${runs}`);
console.log(`baseline  node -e 0          median ${fmt(n.median)}  p90 ${fmt(n.p90)}`);
console.log(`rehearse  --help             median ${fmt(h.median)}  p90 ${fmt(h.p90)}  (+${fmt(h.median - n.median)} over node)`);
console.log(`target    < 300 ms           ${h.median < 300 ? 'MET' : 'NOT MET'}`);
