import type { FieldIssue } from '@aiops/contracts';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { linearRegExp } from '../linear-regexp.ts';

const ajv = new Ajv2020({
  strict: false,
  allErrors: true,
  useDefaults: true,
  coerceTypes: false,
  code: { regExp: linearRegExp },
});
const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Validates a run input against the workflow's input JSON Schema. Defaults of the schema are filled in.
 * Returns the issues with paths like `input.ticket`.
 */
export function validateRunInput(schema: Record<string, unknown> | undefined, input: unknown): FieldIssue[] {
  if (!schema) return [];
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(input)) return [];
  return (validate.errors ?? []).map((e) => {
    const missing =
      e.keyword === 'required' ? `/${(e.params as { missingProperty: string }).missingProperty}` : '';
    const path = `input${`${e.instancePath}${missing}`.replace(/\//g, '.')}`;
    return { path, message: e.keyword === 'required' ? 'is required' : (e.message ?? 'is invalid') };
  });
}
