import { Type } from 'typebox';
import type { AccessTable, MethodAccess } from '@shop/contract-kit';
import { forbidden, invalidInput } from '@shop/platform';
import { compileStrict, describeValidation } from '@shop/platform/internals';

/** One method's access rule, ready to apply to an internal call. */
export interface MethodGate {
  /** Throws 403 `forbidden` unless `caller` is one the contract names for this method. */
  admit(caller: string): void;
  /** Throws 400 `invalid_input` naming the argument (`args[0].items`) unless `args` match the contract's schemas. */
  check(args: readonly unknown[]): void;
}

/** Every method's gate of a module's access table, with its argument schemas compiled once. */
export function compileAccess(module: string, access: AccessTable<any>): Map<string, MethodGate> {
  return new Map(Object.entries(access as Record<string, MethodAccess>).map(([method, rule]) => [method, gate(`${module}.${method}`, rule)]));
}

function gate(name: string, rule: MethodAccess): MethodGate {
  const callers = new Set(rule.callers);
  const schemas = rule.args as readonly object[];
  const validators = schemas.map((schema) => compileStrict(schema));
  // Only trailing parameters may be optional: a client leaves out trailing undefined arguments.
  let required = schemas.length;
  while (required > 0 && Type.IsOptional(schemas[required - 1])) required -= 1;
  const arity = required === schemas.length ? `${required}` : `${required} to ${schemas.length}`;
  return {
    admit(caller) {
      if (!callers.has(caller)) throw forbidden(`caller ${caller} may not call ${name}`);
    },
    check(args) {
      if (args.length < required || args.length > schemas.length) throw invalidInput('args', `${name} takes ${arity} argument(s), got ${args.length}`);
      args.forEach((arg, index) => {
        const validate = validators[index]!;
        if (!validate(arg)) {
          const [first] = describeValidation(validate.errors ?? [], `args[${index}]`);
          throw invalidInput(first?.field ?? `args[${index}]`, first?.message ?? 'is invalid');
        }
      });
    },
  };
}
