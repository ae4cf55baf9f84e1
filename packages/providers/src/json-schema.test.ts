import { describe, expect, it } from 'vitest';
import { schemaProblem, validatingSchema } from './json-schema.ts';

describe('users JSON Schemas', () => {
  it('validates values against the schema', async () => {
    const schema = validatingSchema({
      type: 'object',
      properties: { n: { type: 'integer' } },
      required: ['n'],
    });
    expect(await schema.validate!({ n: 3 })).toEqual({ success: true, value: { n: 3 } });
    const bad = await schema.validate!({ n: 'three' });
    expect(bad.success).toBe(false);
  });

  it('reports a schema that does not compile, and accepts two schemas with the same $id', () => {
    expect(schemaProblem({ type: 'nope' })).toMatch(/type/);
    expect(schemaProblem({ $id: 'order', type: 'object' })).toBeUndefined();
    expect(schemaProblem({ $id: 'order', type: 'array' })).toBeUndefined();
  });
});
