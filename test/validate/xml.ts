// A strict well-formedness check for the XML rehearse writes (JUnit): one root, balanced and
// properly nested tags, quoted attributes without duplicates, only the five entities or numeric ones.
export function assertWellFormedXml(xml: string): { root: string; elements: number } {
  let i = 0;
  const stack: string[] = [];
  let root: string | undefined;
  let elements = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed at offset ${i}: ${why} (…${xml.slice(Math.max(0, i - 40), i + 40)}…)`);
  };
  const name = /^[A-Za-z_:][\w.:-]*/;
  const checkText = (text: string) => {
    if (text.includes('<')) fail('raw < in text');
    for (const m of text.matchAll(/&([^;\s]*);?/g)) if (!/^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);$/.test(m[0])) fail(`bad entity ${m[0]}`);
    if (/[\x00-\x08\x0B\x0C\x0E-\x1F]/.test(text)) fail('control character');
  };
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    i = end + 2;
  }
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (!stack.length && text.trim()) fail('text outside the root element');
    checkText(text);
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
      continue;
    }
    const gt = xml.indexOf('>', i);
    if (gt < 0) fail('unterminated tag');
    const tag = xml.slice(i + 1, gt);
    if (tag.startsWith('/')) {
      const closing = tag.slice(1).trim();
      if (stack.pop() !== closing) fail(`</${closing}> does not close the open element`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const tagName = name.exec(body)?.[0] ?? fail('element without a name');
      let rest = body.slice(tagName.length);
      const seen = new Set<string>();
      while (rest.trim()) {
        const m = /^\s+([A-Za-z_:][\w.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(rest) ?? fail(`bad attribute in <${tagName}>`);
        if (seen.has(m[1]!)) fail(`duplicate attribute ${m[1]}`);
        seen.add(m[1]!);
        checkText(m[3] ?? m[4] ?? '');
        rest = rest.slice(m[0].length);
      }
      if (!stack.length) {
        if (root) fail('a second root element');
        root = tagName;
      }
      elements++;
      if (!selfClosing) stack.push(tagName);
    }
    i = gt + 1;
  }
  if (stack.length) fail(`unclosed <${stack.join('>, <')}>`);
  if (!root) fail('no root element');
  return { root: root!, elements };
}
