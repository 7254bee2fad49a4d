import type { ModuleNames } from './names.ts';

/** The contract package: what other modules and other teams may rely on, depending on no module. */
export function contractFiles(n: ModuleNames): Record<string, string> {
  const { module, Module, thing, Thing } = n;
  return {
    'package.json': `${JSON.stringify(
      {
        name: `@shop/${module}-contract`,
        version: '0.1.0',
        private: true,
        type: 'module',
        description: `The public contract of the ${module} module: its interface, DTOs, events and error codes. Depends on no module.`,
        exports: { '.': './src/index.ts' },
        dependencies: { typebox: '1.4.3', '@shop/contract-kit': '0.1.0' },
      },
      null,
      2,
    )}\n`,
    'src/index.ts': `/**
 * The ${module} module's public contract: what other modules and other teams may rely on.
 * Everything else in \`@shop/${module}\` is private and may change without notice.
 */
export * from './dto.ts';
export * from './events.ts';
export * from './errors.ts';
export type { ${Module}Api, Create${Thing}Result } from './api.ts';
export * from './methods.ts';
`,
    'src/dto.ts': `import { Type, type Static } from 'typebox';
import { FreeText, Uuid } from '@shop/contract-kit';

export const ${Thing} = Type.Object(
  {
    id: Uuid,
    title: Type.String(),
    /** Who created it (the token's subject). */
    created_by: Uuid,
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: '${Thing}' },
);
export type ${Thing} = Static<typeof ${Thing}>;

/** The body of \`POST /api/${module}\`. */
export const Create${Thing}Input = Type.Object({ title: FreeText({ maxLength: 200 }) }, { additionalProperties: false });
export type Create${Thing}Input = Static<typeof Create${Thing}Input>;

/** \`create${Thing}\`'s command: the checked body, with its author settled by the route. */
export const Create${Thing}Command = Type.Object({ ...Create${Thing}Input.properties, created_by: Uuid }, { additionalProperties: false });
export type Create${Thing}Command = Static<typeof Create${Thing}Command>;
`,
    'src/errors.ts': `import { IdempotencyKeyReused, type ErrorSpec } from '@shop/contract-kit';

/** Stable error codes of the ${module} module, with the HTTP status each maps to. */
export const ${Module}Errors = {
  ${thing}NotFound: { code: '${thing}_not_found', status: 404, title: '${Thing} not found' },
  idempotencyKeyReused: IdempotencyKeyReused,
} as const satisfies Record<string, ErrorSpec>;
`,
    'src/events.ts': `import { Type } from 'typebox';
import { defineEvent, Uuid } from '@shop/contract-kit';

/** A ${thing} was created. A new version of an event only adds fields, so its older consumers keep working. */
export const ${Thing}Created = defineEvent('${Thing}Created', 1, Type.Object({ ${thing}_id: Uuid, created_by: Uuid, title: Type.String() }));

export const ${Module}Events = [${Thing}Created] as const;
`,
    'src/api.ts': `import type { PageResult } from '@shop/contract-kit';
import type { Create${Thing}Command, ${Thing} } from './dto.ts';

export interface Create${Thing}Result {
  ${thing}: ${Thing};
  /** false when an earlier request with the same idempotency key created it. */
  created: boolean;
}

/**
 * Everything another module may ask of ${module}. Implemented in process by the module and over
 * HTTP by the client the kernel derives from \`${Module}Methods\`: both throw the same
 * \`ModuleError\` codes (see \`${Module}Errors\`).
 */
export interface ${Module}Api {
  /**
   * Creates a ${thing}. With an idempotency key, a retry with the same payload returns the first
   * one (\`created: false\`); with another payload it throws \`idempotency_key_reused\`.
   */
  create${Thing}(command: Create${Thing}Command, options?: { idempotency_key?: string }): Promise<Create${Thing}Result>;
  /** Throws \`${thing}_not_found\`. */
  get${Thing}(id: string): Promise<${Thing}>;
  /** Newest first, 20 a page. */
  list${Module}(page: number): Promise<PageResult<${Thing}>>;
}
`,
    'src/methods.ts': `import { Type } from 'typebox';
import { EDGE, defineContract, Uuid, type AccessTable, type MethodTable } from '@shop/contract-kit';
import type { ${Module}Api } from './api.ts';
import { Create${Thing}Command } from './dto.ts';

/** What each ${Module}Api method does to state: what may be retried and shadowed. */
export const ${Module}Methods = {
  create${Thing}: 'write', // idempotent only when a key is given, so not declared so
  get${Thing}: 'read',
  list${Module}: 'read',
} as const satisfies MethodTable<${Module}Api>;

/** The edge keys a ${thing} by author and key (\`<author>:<key>\`), so it is longer than a client's key. */
const Create${Thing}Options = Type.Object({ idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) }, { additionalProperties: false });

/** Who may call each ${Module}Api method from another process (the edge serves its routes), and its argument schemas. */
export const ${Module}Access = {
  create${Thing}: { callers: [EDGE], args: [Create${Thing}Command, Type.Optional(Create${Thing}Options)] },
  get${Thing}: { callers: [EDGE], args: [Uuid] },
  list${Module}: { callers: [EDGE], args: [Type.Integer({ minimum: 0 })] },
} as const satisfies AccessTable<${Module}Api>;

/** The ${module} module's contract as the kernel reads it: its name, method kinds, access and personal fields. */
export const ${Module}Contract = defineContract<${Module}Api>({
  name: '${module}',
  description: '${Thing}s (module ${module}).',
  methods: ${Module}Methods,
  access: ${Module}Access,
});
`,
  };
}
