/** `{{ input.ticket }}` → parts for highlighting, and the variables a template uses. */
export interface PromptPart {
  text: string;
  variable: boolean;
}

const VARIABLE = /\{\{\s*([^{}]+?)\s*\}\}/g;

export function splitTemplate(template: string): PromptPart[] {
  const parts: PromptPart[] = [];
  let last = 0;
  for (const m of template.matchAll(VARIABLE)) {
    if (m.index > last) parts.push({ text: template.slice(last, m.index), variable: false });
    parts.push({ text: m[0], variable: true });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ text: template.slice(last), variable: false });
  return parts;
}

export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(VARIABLE)].map((m) => m[1]!.trim()))];
}

/** The `input.x` names a template reads (the try-it panel asks for them). */
export function inputNames(template: string): string[] {
  return templateVariables(template)
    .filter((v) => v.startsWith('input.'))
    .map((v) => v.slice('input.'.length).split('.')[0]!)
    .filter((v, i, all) => v && all.indexOf(v) === i);
}
