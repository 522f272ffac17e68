// Reads the columns of a schema written as SQL (CREATE TABLE / DOMAIN / TYPE … AS ENUM, primary
// keys inside CREATE TABLE, foreign keys as ALTER TABLE … FOREIGN KEY) into the catalogue shape
// the coverage check takes, so a test can ask "does every column have a decision?" without a server.
import type { CatalogColumn } from '../../src/anonymize/coverage.js';

const unquote = (s: string) => s.trim().replace(/^"(.*)"$/, '$1').replace(/""/g, '"');

function baseType(sqlType: string, domains: Map<string, string>, enums: Set<string>): string {
  let t = sqlType.trim();
  const array = /\[\]$/.test(t);
  t = t.replace(/\[\]$/, '').replace(/\(.*\)$/, '').trim();
  const name = unquote(t);
  let base: string;
  if (enums.has(name)) base = 'enum';
  else if (domains.has(name)) base = baseType(domains.get(name)!, domains, enums);
  else {
    const lower = name.toLowerCase();
    base = ({ 'character varying': 'varchar', character: 'bpchar', char: 'bpchar', integer: 'int4', bigint: 'int8', smallint: 'int2', boolean: 'bool', 'double precision': 'float8', real: 'float4', decimal: 'numeric' } as Record<string, string>)[lower] ?? lower;
    if (/^timestamp/.test(lower)) base = 'timestamp';
  }
  return array ? `_${base.replace(/^_/, '')}` : base;
}

export function catalogFromSql(sql: string): CatalogColumn[] {
  const text = sql.replace(/--[^\n]*/g, '');
  const enums = new Set([...text.matchAll(/CREATE TYPE\s+("[^"]+"|\S+)\s+AS\s+ENUM/gi)].map((m) => unquote(m[1]!)));
  const domains = new Map([...text.matchAll(/CREATE DOMAIN\s+("[^"]+"|\S+)\s+AS\s+([^;\n]+?)(?:\s+(?:CHECK|NOT NULL|DEFAULT|CONSTRAINT)\b[^;]*)?;/gi)].map((m) => [unquote(m[1]!), m[2]!.trim()]));
  const keys = new Set<string>();
  for (const m of text.matchAll(/ALTER TABLE\s+(?:ONLY\s+)?("[^"]+"|\S+)\s+ADD CONSTRAINT\s+\S+\s+(?:FOREIGN|PRIMARY) KEY\s*\(([^)]*)\)/gi)) {
    for (const c of m[2]!.split(',')) keys.add(`${unquote(m[1]!)}\0${unquote(c)}`);
  }
  const out: CatalogColumn[] = [];
  for (const m of text.matchAll(/CREATE TABLE\s+("[^"]+"|\S+)\s*\(([\s\S]*?)\n\);/gi)) {
    const table = unquote(m[1]!);
    const lines = m[2]!.split('\n').map((l) => l.trim().replace(/,$/, '')).filter(Boolean);
    for (const line of lines) {
      const pk = /^(?:CONSTRAINT\s+\S+\s+)?PRIMARY KEY\s*\(([^)]*)\)/i.exec(line);
      if (pk) for (const c of pk[1]!.split(',')) keys.add(`${table}\0${unquote(c)}`);
    }
    for (const line of lines) {
      if (/^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)\b/i.test(line)) continue;
      const col = /^("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s+(.+?)(?:\s+(?:NOT NULL|NULL|DEFAULT|PRIMARY KEY|UNIQUE|REFERENCES|CHECK|GENERATED|COLLATE|CONSTRAINT)\b.*)?$/i.exec(line);
      if (!col) continue;
      const column = unquote(col[1]!);
      const baseUdt = baseType(col[2]!, domains, enums);
      if (/\bPRIMARY KEY\b/i.test(line)) keys.add(`${table}\0${column}`);
      out.push({ table, column, baseUdt, udtName: baseUdt, dataType: baseUdt.startsWith('_') ? 'ARRAY' : baseUdt, isKey: false, samples: [] });
    }
  }
  for (const c of out) c.isKey = keys.has(`${c.table}\0${c.column}`);
  return out;
}
