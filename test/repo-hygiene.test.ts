// The repository never carries a file that rehearse generates with secrets in it: a clean
// checkout must not ship someone's demo password, staging env file or TLS key.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/stack.js';

const tracked = execFileSync('git', ['ls-files'], { cwd: REPO, encoding: 'utf8' }).split('\n').filter(Boolean);

describe('repository hygiene', () => {
  it('lists the tracked files (the check below is not vacuous)', () => {
    expect(tracked).toContain('package.json');
  });

  it('tracks no generated secret or generated compose file', () => {
    const generated = tracked.filter((f) => /(^|\/)\.env\.(staging|demo)$|^docker-compose\.(staging|demo)\.yml$|\.key$|(^|\/)staging-backups\//.test(f));
    expect(generated).toEqual([]);
  });

  it('ignores them, so `git add -A` after a run cannot commit them', () => {
    const ignored = ['.env.demo', '.env.staging', 'docker-compose.demo.yml', 'docker-compose.staging.yml', 'nginx/ssl-staging/staging.key', 'staging-backups/x.sql.gz'];
    const out = execFileSync('git', ['check-ignore', '--no-index', ...ignored], { cwd: REPO, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(out.sort()).toEqual([...ignored].sort());
  });
});
