/**
 * `{{path}}` placeholders in tool configs, filled from the tool's input (what the model or the workflow
 * passed). Paths are dotted (`{{order.id}}`); no expressions, no code. Where the text goes decides the
 * escaping: URL values are percent-encoded, header values may not contain line breaks, and in a JSON body a
 * string that is exactly one placeholder takes the value itself (number, object...), not its text.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}$/;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

function lookup(vars: unknown, path: string): unknown {
  let v: unknown = vars;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key))
      throw new TemplateError(`the input has no value for {{${path}}}`);
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export function renderText(
  template: string,
  vars: unknown,
  encode: (s: string) => string = (s) => s,
): string {
  return template.replace(PLACEHOLDER, (_, path: string) => encode(asText(lookup(vars, path))));
}

/** A URL template: values are percent-encoded, so input cannot change the host or add path segments. */
export function renderUrl(template: string, vars: unknown): string {
  return renderText(template, vars, encodeURIComponent);
}

export function renderHeader(template: string, vars: unknown): string {
  const value = renderText(template, vars);
  if (/[\r\n\0]/.test(value)) throw new TemplateError('a header value may not contain line breaks');
  return value;
}

/** A JSON body template: strings are rendered; a string that is one placeholder becomes that value. */
export function renderJson(template: unknown, vars: unknown): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    return whole ? lookup(vars, whole[1]!) : renderText(template, vars);
  }
  if (Array.isArray(template)) return template.map((t) => renderJson(t, vars));
  if (template && typeof template === 'object')
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderJson(v, vars)]));
  return template;
}
