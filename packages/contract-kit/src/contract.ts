import type { AccessTable, MethodTable } from './methods.ts';

/**
 * A module's contract as the kernel reads it: its name (and schema), what each method does to
 * state, who may call each method from another process, and which answer fields are personal.
 * Everything another process needs to reach the module, and nothing of how it is built: the
 * composition root derives the module's remote client, `/internal` routes, shadow comparison
 * and traffic split from this alone.
 */
export interface ModuleContract<Api extends object = object> {
  readonly name: string;
  /** What the module does, in a sentence (its OpenAPI tag's description). */
  readonly description: string;
  readonly methods: MethodTable<Api>;
  readonly access: AccessTable<Api>;
  /** Answer fields redacted from shadow mismatches (e-mail addresses, push endpoints…). */
  readonly personal: readonly string[];
}

/** The interface a contract describes. */
export type ApiOf<C> = C extends ModuleContract<infer Api> ? Api : never;

export function defineContract<Api extends object>(contract: {
  name: string;
  description: string;
  methods: MethodTable<Api>;
  access: AccessTable<Api>;
  personal?: readonly string[];
}): ModuleContract<Api> {
  if (!/^[a-z][a-z0-9_]*$/.test(contract.name)) throw new Error(`a module's name is its schema: lower-case letters, digits and _ (got "${contract.name}")`);
  return { personal: [], ...contract };
}
