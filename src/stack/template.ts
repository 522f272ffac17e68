// A deliberately tiny template language for compose/ and nginx/: `{{ key.path }}` and
// `{{#if key}} … {{/if}}` (no nesting of the same key). Unknown keys are errors, never blanks.

export type TemplateValues = Record<string, unknown>;

function lookup(values: TemplateValues, key: string): unknown {
  let node: unknown = values;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || !(part in (node as object))) throw new Error(`template key "${key}" has no value`);
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

export function renderTemplate(template: string, values: TemplateValues): string {
  const withBlocks = template.replace(/^[ \t]*\{\{#if ([\w.]+)\}\}[ \t]*\n([\s\S]*?)^[ \t]*\{\{\/if\}\}[ \t]*\n/gm, (_, key: string, body: string) =>
    lookup(values, key) ? body : '',
  );
  return withBlocks.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, key: string) => String(lookup(values, key)));
}
