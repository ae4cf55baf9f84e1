/**
 * JSON Schemas given by users (structured output, tool inputs) → AI SDK schemas that validate with Ajv, so
 * an answer or a tool input that does not match is refused rather than passed on.
 */
import { type JsonSchema, linearRegExp } from '@aiops/core';
import { jsonSchema, type Schema } from 'ai';
import { Ajv, type ValidateFunction } from 'ajv';

// addUsedSchema false: users' schemas may reuse an $id; each is compiled on its own
const ajv = new Ajv({ allErrors: true, strict: false, addUsedSchema: false, code: { regExp: linearRegExp } });
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

function validatorFor(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** Checks that a user's JSON Schema compiles (for validating agent configs); returns the problem, or undefined. */
export function schemaProblem(schema: JsonSchema): string | undefined {
  try {
    validatorFor(schema);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export function validatingSchema(schema: JsonSchema): Schema<unknown> {
  return jsonSchema<unknown>(schema as Parameters<typeof jsonSchema>[0], {
    validate(value) {
      const validate = validatorFor(schema);
      if (validate(value)) return { success: true, value };
      return { success: false, error: new Error(ajv.errorsText(validate.errors)) };
    },
  });
}
