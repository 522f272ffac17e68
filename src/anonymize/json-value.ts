// Lossless JSON for json/jsonb columns: numbers keep their exact text (JSON.parse would turn
// 1.10 into 1.1 and 12345678901234567890 into …000), objects are prototype-free, and output
// uses PostgreSQL's jsonb spacing so an untouched jsonb document round-trips byte for byte.

/** A JSON number whose text a JS number cannot hold exactly (big integer, trailing zeros, exponent). */
export class JsonNumber {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

export type JsonValue = null | boolean | number | string | JsonNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export class JsonSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} at position ${position}`);
    this.name = 'JsonSyntaxError';
  }
}

export function parseJson(text: string): JsonValue {
  let i = 0;
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const str = (): string => {
    // Caller saw the opening quote.
    i++;
    const start = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) throw new JsonSyntaxError('unterminated string', start);
      if (c === 0x22) {
        i++;
        return text.slice(start, i - 1);
      }
      if (c === 0x5c) break;
      i++;
    }
    // Slow path: the string has escapes.
    let out = text.slice(start, i);
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) throw new JsonSyntaxError('unterminated string', start);
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c !== 0x5c) {
        out += text[i++];
        continue;
      }
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new JsonSyntaxError('bad \\u escape', i);
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          throw new JsonSyntaxError('bad escape', i - 2);
      }
    }
  };
  const value = (): JsonValue => {
    ws();
    const c = text[i];
    if (c === '"') return str();
    if (c === '{') {
      i++;
      const obj: JsonObject = Object.create(null) as JsonObject;
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new JsonSyntaxError('expected a key', i);
        const key = str();
        ws();
        if (text[i] !== ':') throw new JsonSyntaxError('expected ":"', i);
        i++;
        obj[key] = value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        throw new JsonSyntaxError('expected "," or "}"', i);
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        throw new JsonSyntaxError('expected "," or "]"', i);
      }
    }
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(text);
    if (!m) throw new JsonSyntaxError('unexpected character', i);
    i += m[0].length;
    return numberFromText(m[0]);
  };
  const result = value();
  ws();
  if (i !== text.length) throw new JsonSyntaxError('trailing characters', i);
  return result;
}

/** A plain number when JS holds the text exactly, else a JsonNumber that keeps it. */
export function numberFromText(text: string): number | JsonNumber {
  const n = Number(text);
  return String(n) === text ? n : new JsonNumber(text);
}

/** `jsonb` mimics PostgreSQL's jsonb output (", " and ": "); `compact` is JSON.stringify's. */
export function stringifyJson(value: JsonValue, style: 'jsonb' | 'compact' = 'jsonb'): string {
  const comma = style === 'jsonb' ? ', ' : ',';
  const colon = style === 'jsonb' ? ': ' : ':';
  const out = (v: JsonValue): string => {
    if (v === null) return 'null';
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (v instanceof JsonNumber) return v.text;
    if (Array.isArray(v)) return '[' + v.map(out).join(comma) + ']';
    const parts: string[] = [];
    for (const key of Object.keys(v)) parts.push(JSON.stringify(key) + colon + out(v[key]!));
    return '{' + parts.join(comma) + '}';
  };
  return out(value);
}

// ------------------------------------------------------------------------------------------------
// JSON paths: `$`, `.key`, `["key"]`, `[0]`, `[*]`, `.*`, and `..key` (that key at any depth).

export type PathSegment =
  | { kind: 'key'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'any' }
  | { kind: 'descend'; name: string };

export function parseJsonPath(path: string): PathSegment[] {
  if (!path.startsWith('$')) throw new Error(`JSON path "${path}" must start with "$"`);
  const segs: PathSegment[] = [];
  let i = 1;
  const name = /[A-Za-z0-9_$-]+/y;
  const readName = (): string => {
    name.lastIndex = i;
    const m = name.exec(path);
    if (!m) throw new Error(`JSON path "${path}": expected a key name at position ${i}`);
    i += m[0].length;
    return m[0];
  };
  while (i < path.length) {
    if (path.startsWith('..', i)) {
      i += 2;
      segs.push({ kind: 'descend', name: readName() });
    } else if (path[i] === '.') {
      i++;
      if (path[i] === '*') {
        i++;
        segs.push({ kind: 'any' });
      } else segs.push({ kind: 'key', name: readName() });
    } else if (path[i] === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) throw new Error(`JSON path "${path}": unclosed "["`);
      const inner = path.slice(i + 1, close);
      i = close + 1;
      if (inner === '*') segs.push({ kind: 'any' });
      else if (/^\d+$/.test(inner)) segs.push({ kind: 'index', index: Number(inner) });
      else if (/^(["']).*\1$/.test(inner)) segs.push({ kind: 'key', name: inner.slice(1, -1) });
      else throw new Error(`JSON path "${path}": "[${inner}]" is not [n], [*] or ["key"]`);
    } else throw new Error(`JSON path "${path}": unexpected "${path[i]}" at position ${i}`);
  }
  return segs;
}

/** Matching state: which path, how far along it. Kept as a flat number array for speed. */
type States = number[]; // pairs: pathIndex, segmentIndex

/**
 * Walks `doc` and calls `onMatch(value, pathIndex)` for the first path that ends at a node (its
 * return value replaces the node; matched nodes are not walked further), and `onOtherString`
 * for every string no path reached.
 */
export function rewriteJson(
  doc: JsonValue,
  paths: PathSegment[][],
  onMatch: (value: JsonValue, pathIndex: number) => JsonValue,
  onOtherString?: (value: string) => string,
): JsonValue {
  const initial: States = [];
  for (let p = 0; p < paths.length; p++) initial.push(p, 0);
  const visit = (node: JsonValue, states: States): JsonValue => {
    for (let s = 0; s < states.length; s += 2) {
      const p = states[s]!;
      if (states[s + 1] === paths[p]!.length) return onMatch(node, p);
    }
    if (typeof node === 'string') return onOtherString ? onOtherString(node) : node;
    if (Array.isArray(node)) {
      for (let k = 0; k < node.length; k++) node[k] = visit(node[k]!, step(states, k));
      return node;
    }
    if (isJsonObject(node)) {
      for (const key of Object.keys(node)) node[key] = visit(node[key]!, step(states, key));
      return node;
    }
    return node;
  };
  const step = (states: States, key: string | number): States => {
    const next: States = [];
    for (let s = 0; s < states.length; s += 2) {
      const p = states[s]!;
      const i = states[s + 1]!;
      const seg = paths[p]![i];
      if (!seg) continue;
      switch (seg.kind) {
        case 'key':
          if (key === seg.name) next.push(p, i + 1);
          break;
        case 'index':
          if (key === seg.index) next.push(p, i + 1);
          break;
        case 'any':
          next.push(p, i + 1);
          break;
        case 'descend':
          if (key === seg.name) next.push(p, i + 1);
          next.push(p, i); // keep looking deeper
          break;
      }
    }
    return next;
  };
  return visit(doc, initial);
}
