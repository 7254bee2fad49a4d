import ajvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// Both ship CommonJS that Node's ESM loader cannot name exports of (the built `dist/main.js` is
// plain Node ESM): take what they export from the module object.
const { Ajv } = ajvModule;
type Ajv = InstanceType<typeof Ajv>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Bodies are validated strictly: a string is not a number, unknown fields are rejected, not
 * silently dropped (Fastify's defaults coerce and strip). Query strings and path parameters
 * are text by nature, so they are coerced (`?page=2` is the integer 2).
 */
export function installValidation(app: FastifyInstance): void {
  const strict = addFormats(new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false }));
  const coercing = addFormats(new Ajv({ coerceTypes: true, useDefaults: true, removeAdditional: false, strict: false }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}

export interface FieldError {
  field: string;
  message: string;
}

/** Turns Ajv's findings into "field: message" pairs, e.g. `body.items[0].quantity`. */
export function describeValidation(errors: ErrorObject[], context: string): FieldError[] {
  return errors.map((error) => {
    const base = context + pointerToPath(error.instancePath);
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'required':
        return { field: `${base}.${String(params.missingProperty)}`, message: 'is required' };
      case 'additionalProperties':
        return { field: `${base}.${String(params.additionalProperty)}`, message: 'is not an allowed field' };
      case 'format':
        return { field: base, message: `must be a valid ${params.format === 'uuid' ? 'UUID' : String(params.format)}` };
      case 'type':
        return { field: base, message: `must be of type ${String(params.type)}` };
      default:
        return { field: base, message: error.message ?? 'is invalid' };
    }
  });
}

function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('');
}

let strictAjv: Ajv | undefined;

/**
 * A validator with the rules request bodies get (strict: no coercion, unknown fields rejected),
 * for JSON that is not a route's body (the arguments of an internal call). Compile once, at start.
 */
export function compileStrict(schema: object): ValidateFunction {
  strictAjv ??= addFormats(new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, strict: false }));
  return strictAjv.compile(schema);
}
