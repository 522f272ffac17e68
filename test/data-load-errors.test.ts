// What the data step says about a row staging refused: the error's fields (table, column,
// constraint, SQLSTATE), never the value, which PostgreSQL puts in the message, the detail and the
// COPY context. The real refusals run in data-faults.int.test.ts; these are the message shapes.
import { describe, expect, it } from 'vitest';
import { describeStagingError, StagingRejectedError } from '../src/data/load.js';

const pgError = (fields: Record<string, string>) => Object.assign(new Error(fields.message), { name: 'PostgresError', severity: 'ERROR', ...fields });

describe('describeStagingError', () => {
  it('an invalid value: table, row and column from the COPY context, the value cut from message and context', () => {
    const e = describeStagingError(pgError({ message: 'invalid cidr value: "10.1.2.3/8"', detail: 'Value has bits set to right of mask.', code: '22P02', where: 'COPY hosts, line 2, column net: "10.1.2.3/8"' }));
    expect(e).toBeInstanceOf(StagingRejectedError);
    expect(e.message).toBe('staging refused table "hosts" (row 2 of its COPY), column "net": invalid cidr value (SQLSTATE 22P02)');
    expect(e.message).not.toContain('10.1.2.3');
  });

  it('a duplicate key: the columns from the detail, not the key', () => {
    const e = describeStagingError(pgError({ message: 'duplicate key value violates unique constraint "users_email_key"', detail: 'Key (email)=(ana@example.org) already exists.', code: '23505', table_name: 'users', constraint_name: 'users_email_key', where: 'COPY users, line 7' }));
    expect(e.message).toBe('staging refused table "users" (row 7 of its COPY), column "email", constraint "users_email_key": duplicate key value violates unique constraint "users_email_key" (SQLSTATE 23505)');
    expect(e.message).not.toContain('ana@');
  });

  it('a CHECK: the constraint, and the columns it reads when the caller found them', () => {
    const e = describeStagingError(pgError({ message: 'new row for relation "users" violates check constraint "note_is_clean"', detail: 'Failing row contains (3, secret note).', code: '23514', table_name: 'users', constraint_name: 'note_is_clean' }), undefined, 'note');
    expect(e.message).toBe('staging refused table "users", column "note", constraint "note_is_clean": new row for relation "users" violates check constraint "note_is_clean" (SQLSTATE 23514)');
    expect(e.message).not.toContain('secret');
  });

  it('anything that is not a server error passes through', () => {
    const plain = new Error('injected');
    expect(describeStagingError(plain)).toBe(plain);
  });
});
