// Pure parts of the migration engine: the SQL splitter, migration folders, Redis key patterns and
// percentiles. (Everything that talks to PostgreSQL or Redis is covered by the *.int tests.)
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { builtInNames, renameTables, resolveBranches } from '../../src/migration/adapt.js';
import { loadMigration, MIGRATIONS_DIR } from '../../src/migration/folder.js';
import { keyFor, keyMatcher, scanGlob } from '../../src/migration/redis-cache.js';
import { splitSql, statementLabel } from '../../src/migration/sql-split.js';
import { percentile } from '../../src/migration/workload.js';

describe('splitSql', () => {
  it('splits on top-level semicolons only', () => {
    const text = `SELECT 'a;b', "x;y" FROM t; -- c;d
      /* e; /* nested; */ f; */ SELECT $$g;h$$, $tag$ i; $$ j; $tag$, E'k\\';l';
      SELECT $1::int;`;
    const { segments } = splitSql(text);
    expect(segments).toHaveLength(1);
    expect(segments[0]).toHaveLength(3);
    expect(segments[0]![1]).toContain("$tag$ i; $$ j; $tag$");
    expect(segments[0]![2]).toBe('SELECT $1::int');
  });

  it('makes a new transaction segment at each -- @rehearse:commit line', () => {
    const { segments } = splitSql(`ALTER TYPE t ADD VALUE 'X';\n-- @rehearse:commit\nUPDATE a SET b = 1;\nUPDATE c SET d = 2;\n`);
    expect(segments).toEqual([["ALTER TYPE t ADD VALUE 'X'"], ['UPDATE a SET b = 1', 'UPDATE c SET d = 2']]);
  });

  it('ignores a marker inside a statement or a string and drops comment-only pieces', () => {
    const { segments } = splitSql(`SELECT '\n-- @rehearse:commit\n';\n-- only a comment;\n`);
    expect(segments).toHaveLength(1);
    expect(segments[0]).toHaveLength(1);
  });

  it('labels a statement by its code, and a DO block by the comment right above it', () => {
    expect(statementLabel('-- header\n\nUPDATE users u\nSET x = 1')).toBe('UPDATE users u SET x = 1');
    expect(statementLabel('-- file header\n\n-- 2. Validate it\n-- more\nDO $$ BEGIN END $$')).toBe('DO block: 2. Validate it');
    expect(statementLabel(`SELECT ${'x, '.repeat(60)}1`, 20)).toHaveLength(20);
  });
});

describe('loadMigration', () => {
  it('reads the built-in migration: a two-step prelude, a one-statement body, one down statement, five checks before fitting', () => {
    const m = loadMigration('learner-to-customer');
    expect(m.dir).toBe(path.join(MIGRATIONS_DIR, 'learner-to-customer'));
    expect(m.up.prelude).toHaveLength(2);
    expect(m.up.body).toHaveLength(1);
    expect(m.down.body).toHaveLength(1);
    expect(m.verify.statements).toHaveLength(5);
    expect(m.meta).toMatchObject({ target: { table: 'users', idColumn: 'id' }, change: { column: 'role', from: 'LEARNER', to: 'CUSTOMER' }, softDeleteColumn: 'deletedAt' });
  });

  it('names the fix for a missing migration, file or key', () => {
    expect(() => loadMigration('no-such-migration')).toThrow(UserError);
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'rehearse-mig-')), 'copy');
    cpSync(path.join(MIGRATIONS_DIR, 'learner-to-customer'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'migration.json'), JSON.stringify({ description: 'x' }));
    expect(() => loadMigration(dir)).toThrow(/migration.json is not a valid migration description:[\s\S]*target/);
    writeFileSync(path.join(dir, 'down.sql'), 'UPDATE a SET b = 1;\n-- @rehearse:commit\nUPDATE a SET b = 2;');
    writeFileSync(path.join(dir, 'migration.json'), JSON.stringify(loadMigration('learner-to-customer').meta));
    expect(() => loadMigration(dir)).toThrow(/down.sql must be one transaction/);
  });
});

describe('Redis key patterns', () => {
  it('turns a pattern into a SCAN glob, a concrete key and an id extractor', () => {
    expect(scanGlob('session:{userId}:*')).toBe('session:*:*');
    expect(scanGlob('user[{userId}]')).toBe('user\\[*\\]');
    expect(keyFor('session:{userId}:*', 'c1', 'x')).toBe('session:c1:x');
    const match = keyMatcher('session:{userId}:*');
    expect(match('session:ckabc123:device-1')).toBe('ckabc123');
    expect(match('user:ckabc123:role')).toBeNull();
    expect(keyMatcher('user:{userId}:role')('user:42:role')).toBe('42');
    expect(keyMatcher('user:{userId}:role')('user:42:roles')).toBeNull();
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 0.5)).toBe(50);
    expect(percentile(s, 0.95)).toBe(95);
    expect(percentile([], 0.95)).toBe(0);
    expect(percentile([7], 0.95)).toBe(7);
  });
});

describe('resolveBranches (@rehearse:if lines)', () => {
  const text = ['SELECT 1', '-- @rehearse:if column users.tokenVersion', ', a', '-- @rehearse:elif table sessions', ', b', '-- @rehearse:else', ', c', '-- @rehearse:end', 'FROM t'].join('\n');
  it('keeps the first branch whose condition holds, and drops the directive lines', () => {
    expect(resolveBranches(text, (c) => c === 'column users.tokenVersion', 'x')).toBe('SELECT 1\n, a\nFROM t');
    expect(resolveBranches(text, (c) => c === 'table sessions', 'x')).toBe('SELECT 1\n, b\nFROM t');
    expect(resolveBranches(text, () => false, 'x')).toBe('SELECT 1\n, c\nFROM t');
  });
  it('names the file and line of an unbalanced directive', () => {
    expect(() => resolveBranches('-- @rehearse:if table x\nSELECT 1', () => true, 'up.sql')).toThrow(/up.sql, line 1: @rehearse:if without @rehearse:end/);
    expect(() => resolveBranches('SELECT 1\n-- @rehearse:end', () => true, 'up.sql')).toThrow(/up.sql, line 2: @rehearse:end without/);
  });
});

describe('renameTables (the built-in migration on a schema whose users table is "User")', () => {
  const m = loadMigration('learner-to-customer');
  const renamed = renameTables(m, { users: 'User', sessions: 'Session' });
  const code = (text: string) => text.split('\n').filter((l) => !/^\s*--(?!\s*@rehearse)/.test(l)).join('\n');

  it('names the tables as quoted identifiers in SQL and bare in conditions, and leaves other words alone', () => {
    for (const part of [renamed.up.text, renamed.down.text, renamed.verify.text]) {
      expect(code(part)).not.toMatch(/(FROM|JOIN|UPDATE|INTO|TABLE)\s+(users|sessions)\b|::users\b|'users'::regclass/);
    }
    expect(renamed.up.text).toContain(`'"User"'::regclass`);
    expect(renamed.up.text).toContain('DELETE FROM "Session" s');
    expect(renamed.up.text).toContain('-- @rehearse:if !column User.tokenVersion and column Session.userId');
    // A jsonb key and a CTE column that happen to read "sessions" are not table names.
    expect(renamed.up.text).toContain(`, 'sessions', coalesce(e.sessions, '[]'::jsonb)`);
    expect(renamed.down.text).toContain(`jsonb_populate_recordset(NULL::"Session", r.rollback_data->'sessions')`);
    expect(renamed.meta.target.table).toBe('User');
    expect(renamed.meta.alsoChanges.map((a) => [a.table, a.when])).toEqual([['Session', '!column User.tokenVersion and column Session.userId']]);
    expect(renamed.meta.standardQueries[0]!.sql).toContain('FROM "User" WHERE');
  });

  it('renames only the built-in migration', () => {
    expect(builtInNames(m, 'User')).toEqual({ users: 'User' });
    expect(builtInNames({ ...m, dir: path.join(os.tmpdir(), 'my-migration') }, 'User')).toEqual({});
    expect(renameTables(m, {})).toBe(m);
  });
});
