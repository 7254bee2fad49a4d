import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Type, type TSchema } from 'typebox';
import { describe, expect, it } from 'vitest';
import { describeValidation } from '../src/http/validation.ts';

// Same Ajv setup as the server's body validator (strict types, every error reported).
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ coerceTypes: false, removeAdditional: false, strict: false, allErrors: true }));

/** Ajv's own errors for `value` against `schema` (fails the test if the value is valid). */
function errorsOf(schema: TSchema, value: unknown): ErrorObject[] {
  const validate = ajv.compile(schema);
  expect(validate(value)).toBe(false);
  return validate.errors ?? [];
}

const Line = Type.Object(
  { product_id: Type.String({ format: 'uuid' }), quantity: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
const Body = Type.Object({ items: Type.Array(Line), note: Type.Optional(Type.String()) }, { additionalProperties: false });
const UUID = '11111111-1111-4111-8111-111111111111';

describe('describeValidation', () => {
  it('turns the instance path into a field path with array indexes', () => {
    const errors = errorsOf(Body, { items: [{ product_id: UUID, quantity: 0 }] });
    expect(describeValidation(errors, 'body')).toEqual([{ field: 'body.items[0].quantity', message: expect.stringContaining('>= 1') }]);
  });

  it('names a missing property as the field, "is required"', () => {
    const errors = errorsOf(Body, { items: [{ product_id: UUID, quantity: 1 }, { quantity: 1 }] });
    expect(describeValidation(errors, 'body')).toEqual([{ field: 'body.items[1].product_id', message: 'is required' }]);
  });

  it('names a missing top-level property', () => {
    expect(describeValidation(errorsOf(Body, {}), 'body')).toEqual([{ field: 'body.items', message: 'is required' }]);
  });

  it('names an extra field', () => {
    const errors = errorsOf(Body, { items: [], coupon: 'FREE' });
    expect(describeValidation(errors, 'body')).toEqual([{ field: 'body.coupon', message: 'is not an allowed field' }]);
  });

  it('says which format and which type were expected', () => {
    const errors = errorsOf(Body, { items: [{ product_id: 'nope', quantity: '2' }] });
    expect(describeValidation(errors, 'body')).toEqual([
      { field: 'body.items[0].product_id', message: 'must be a valid UUID' },
      { field: 'body.items[0].quantity', message: 'must be of type integer' },
    ]);
  });

  it('uses the context it is given (query, params) and unescapes JSON pointers', () => {
    const schema = Type.Object({ 'a/b': Type.Object({ 'c~d': Type.String() }) });
    const errors = errorsOf(schema, { 'a/b': { 'c~d': 5 } });
    expect(describeValidation(errors, 'query')).toEqual([{ field: 'query.a/b.c~d', message: 'must be of type string' }]);
  });
});
