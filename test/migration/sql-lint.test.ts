// The lexer and the lint that refuse transaction control, statements that cannot run in a
// transaction, and statements beyond the app's data, before a migration runs.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { loadMigration, MIGRATIONS_DIR } from '../../src/migration/folder.js';
import { lintSql } from '../../src/migration/sql-lint.js';
import { lexSql, splitStatements } from '../../src/migration/sql-split.js';

const rules = (sql: string, allow?: string[]) => lintSql('up.sql', sql, { allow }).map((f) => `${f.kind}:${f.rule}@${f.line}`);

describe('lexSql', () => {
  it('keeps comments, strings, quoted identifiers and dollar bodies out of code', () => {
    const text = `SELECT 'a;b', E'it\\'s', "x;y", $f$ COMMIT; $f$ /* c; /* nested */ ; */ -- d;\n;`;
    const kinds = lexSql(text).map((t) => t.kind);
    expect(kinds.filter((k) => k === 'semicolon')).toHaveLength(1);
    expect(kinds).toEqual(expect.arrayContaining(['string', 'quoted-ident', 'dollar', 'block-comment', 'line-comment']));
    const code = lexSql(text).filter((t) => t.kind === 'code').map((t) => text.slice(t.start, t.end)).join('');
    expect(code).not.toMatch(/COMMIT|;/);
  });

  it('does not take $1 or an identifier ending in $ for a dollar quote', () => {
    expect(lexSql('SELECT $1; SELECT a$ FROM t;').filter((t) => t.kind === 'dollar')).toHaveLength(0);
  });

  it('splits with line numbers and keeps a BEGIN ATOMIC body whole', () => {
    const text = `UPDATE a SET b = 1;\n\nCREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN true THEN 1 END;\n  SELECT 2;\nEND;\n-- @rehearse:commit\nUPDATE c SET d = 2;`;
    const segments = splitStatements(text);
    expect(segments).toHaveLength(2);
    expect(segments[0]!.map((s) => s.line)).toEqual([1, 3]);
    expect(segments[0]![1]!.text).toMatch(/SELECT 2;\nEND$/);
    expect(segments[1]![0]!.line).toBe(9);
  });
});

describe('lintSql', () => {
  it('refuses transaction control at the top level, with the line', () => {
    expect(rules('UPDATE users SET role = 1;\nCOMMIT;\nDROP TABLE x;')).toEqual(['transaction-control:COMMIT@2']);
    expect(rules('BEGIN;\nUPDATE users SET role = 1;\nCOMMIT;')).toEqual(['transaction-control:BEGIN@1', 'transaction-control:COMMIT@3']);
    expect(rules('START TRANSACTION ISOLATION LEVEL SERIALIZABLE; END; ROLLBACK; ABORT; SAVEPOINT s; RELEASE s; ROLLBACK TO s; PREPARE TRANSACTION \'x\';').map((r) => r.split('@')[0])).toEqual([
      'transaction-control:START TRANSACTION',
      'transaction-control:END',
      'transaction-control:ROLLBACK',
      'transaction-control:ABORT',
      'transaction-control:SAVEPOINT',
      'transaction-control:RELEASE SAVEPOINT',
      'transaction-control:ROLLBACK TO SAVEPOINT',
      'transaction-control:PREPARE TRANSACTION',
    ]);
  });

  it('accepts COMMIT inside a function body, a DO block, a string or a comment', () => {
    const ok = `CREATE PROCEDURE p() LANGUAGE plpgsql AS $body$ BEGIN UPDATE t SET a = 1; COMMIT; END $body$;
DO $$ BEGIN PERFORM 1; END $$;
SELECT 'COMMIT; DROP ROLE x', "COMMIT";
-- COMMIT;
/* ROLLBACK; */ UPDATE users SET note = 'truncate';`;
    expect(rules(ok)).toEqual([]);
  });

  it('refuses statements that cannot run in a transaction', () => {
    expect(rules('VACUUM users;\nCREATE UNIQUE INDEX CONCURRENTLY i ON t (a);\nREINDEX TABLE CONCURRENTLY t;\nALTER SYSTEM SET work_mem = 1;\nCREATE DATABASE x;')).toEqual([
      'not-transactional:VACUUM@1',
      'not-transactional:CREATE INDEX CONCURRENTLY@2',
      'not-transactional:REINDEX CONCURRENTLY / DATABASE / SYSTEM@3',
      'not-transactional:ALTER SYSTEM@4',
      'not-transactional:CREATE DATABASE@5',
    ]);
    // Cannot run in a transaction: "allow" does not change that.
    expect(rules('DROP DATABASE prod;', ['DROP DATABASE'])).toEqual(['not-transactional:DROP DATABASE@1']);
  });

  it('refuses what reaches beyond the data unless migration.json allows it, in DO blocks too', () => {
    const sql = `DROP ROLE app;\nTRUNCATE users;\nDO $$ BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity; DROP SCHEMA s CASCADE; END $$;\nCOPY t TO PROGRAM 'curl x';`;
    expect(rules(sql)).toEqual(['dangerous:DROP ROLE@1', 'dangerous:TRUNCATE@2', 'dangerous:pg_terminate_backend@3', 'dangerous:DROP SCHEMA@3', 'dangerous:COPY PROGRAM@4']);
    expect(rules(sql, ['drop role', 'TRUNCATE', 'pg_terminate_backend', 'DROP SCHEMA', 'COPY PROGRAM'])).toEqual([]);
    expect(rules('CREATE TRIGGER t BEFORE TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION f();')).toEqual([]);
  });

  it('passes the built-in migration', () => {
    for (const file of ['up.sql', 'down.sql', 'verify.sql']) {
      const text = readFileSync(path.join(MIGRATIONS_DIR, 'learner-to-customer', file), 'utf8');
      expect(text.length).toBeGreaterThan(100);
      expect(lintSql(file, text)).toEqual([]);
    }
  });
});

describe('loadMigration refuses before anything runs', () => {
  const copy = (up: string, meta: Record<string, unknown> = {}) => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'ft-lint-')), 'm');
    cpSync(path.join(MIGRATIONS_DIR, 'learner-to-customer'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'up.sql'), up);
    const json = JSON.parse(readFileSync(path.join(dir, 'migration.json'), 'utf8'));
    writeFileSync(path.join(dir, 'migration.json'), JSON.stringify({ ...json, ...meta }));
    return dir;
  };

  it('names the file, the line, and the fix for a BEGIN … COMMIT wrapper', () => {
    const dir = copy(`BEGIN;\nUPDATE users SET role = 'CUSTOMER' WHERE role = 'LEARNER';\nCOMMIT;\n`);
    let error: UserError | undefined;
    try {
      loadMigration(dir);
    } catch (e) {
      error = e as UserError;
    }
    expect(error).toBeInstanceOf(UserError);
    expect(error!.message).toMatch(/refused before anything ran.*Nothing was changed/);
    expect(error!.details).toContain(`${path.join(dir, 'up.sql')}:1  BEGIN`);
    expect(error!.details).toContain(`${path.join(dir, 'up.sql')}:3  COMMIT`);
    expect(error!.tryThis).toMatch(/-- @rehearse:commit/);
  });

  it('says when the folder is outside the work folder and the built-in migrations', () => {
    const dir = copy(readFileSync(path.join(MIGRATIONS_DIR, 'learner-to-customer', 'up.sql'), 'utf8'));
    expect(loadMigration(dir, process.cwd(), path.dirname(dir)).outsideProject).toBeUndefined();
    expect(loadMigration(dir, process.cwd(), '/nonexistent-work').outsideProject).toMatch(/outside the work folder \/nonexistent-work/);
    expect(loadMigration('learner-to-customer', process.cwd(), '/nonexistent-work').outsideProject).toBeUndefined();
  });

  it('accepts a declared allow', () => {
    const dir = copy(`TRUNCATE staging_logs.init_log;\n-- @rehearse:commit\n${readFileSync(path.join(MIGRATIONS_DIR, 'learner-to-customer', 'up.sql'), 'utf8')}`, { allow: ['TRUNCATE'] });
    expect(loadMigration(dir).meta.allow).toEqual(['TRUNCATE']);
    writeFileSync(path.join(dir, 'migration.json'), JSON.stringify({ ...loadMigration(dir).meta, allow: [] }));
    expect(() => loadMigration(dir)).toThrow(/refused before anything ran/);
  });
});
