// A value as an SQL string literal, the way pg_get_constraintdef prints one (seed.ts looks for a
// role's label in a CHECK's definition). Assumes standard_conforming_strings=on, the default since
// PostgreSQL 9.1. Queries bind their values as parameters instead.

export const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;
