// Literal quoting for the few statements that cannot take bind parameters (COPY (SELECT …) TO
// STDOUT). Assumes standard_conforming_strings=on, the default since PostgreSQL 9.1.

export const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** A PostgreSQL array literal of text elements, e.g. {"a","b \"c\""}; null becomes NULL. */
export function arrayLiteral(values: Array<string | null>): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;
}
