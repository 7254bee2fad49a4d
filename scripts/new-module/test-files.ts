import type { ModuleNames } from './names.ts';

/** The module's first tests: a unit test of its domain, a module scenario, and its contract suite (run local and remote by the app). */
export function testFiles(n: ModuleNames): Record<string, string> {
  const { module, Module, thing, Thing } = n;
  return {
    'test/domain.unit.test.ts': `import { describe, expect, it } from 'vitest';
import { titleOf } from '../src/domain.ts';

describe('${module} domain', () => {
  it('stores a title trimmed', () => {
    expect(titleOf('  A title ')).toBe('A title');
  });

  it('refuses a blank title, naming the field', () => {
    expect(() => titleOf('   ')).toThrow(expect.objectContaining({ code: 'invalid_input', detail: expect.stringContaining('body.title') }));
  });
});
`,
    [`test/${module}.module.test.ts`]: `import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ${Thing}Created, type ${Module}Api } from '@shop/${module}-contract';
import { startModuleTestKit, type ModuleTestKit } from '@shop/platform/testing';
import { create${Module}Module, ${module}Migrations } from '../src/index.ts';

/** The ${module} module alone, on a real PostgreSQL: what it stores and the events it publishes. */
describe('${module}, as a module', () => {
  let kit: ModuleTestKit;
  let ${module}: ${Module}Api;

  beforeAll(async () => {
    kit = await startModuleTestKit([${module}Migrations]);
    ${module} = (await kit.run(create${Module}Module(kit.deps('${module}')))).api;
  });
  afterAll(() => kit.stop());

  it('creates a ${thing} and publishes ${Thing}Created with it, through the outbox', async () => {
    const author = randomUUID();
    const { payload, result } = await kit.scenario
      .stimulate(() => ${module}.create${Thing}({ title: 'First', created_by: author }))
      .andWaitForEvent(${Thing}Created, (created) => created.created_by === author);
    expect(result.created).toBe(true);
    expect(payload).toEqual({ ${thing}_id: result.${thing}.id, created_by: author, title: 'First' });
    expect(await ${module}.get${Thing}(result.${thing}.id)).toEqual(result.${thing});
  });

  it('creates once per idempotency key: a retry answers the first ${thing} and publishes nothing more', async () => {
    const author = randomUUID();
    const key = \`key-\${randomUUID()}\`;
    const first = await ${module}.create${Thing}({ title: 'Once', created_by: author }, { idempotency_key: key });
    const again = await ${module}.create${Thing}({ title: 'Once', created_by: author }, { idempotency_key: key });
    expect(again).toEqual({ ${thing}: first.${thing}, created: false });
    const rows = await kit.sql('SELECT count(*)::int AS n FROM ${module}.${thing}s WHERE created_by = $1', [author]);
    expect(rows[0]!.n).toBe(1);
  });
});
`,
    'test/contract-suite.ts': `import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ${Module}Errors, type ${Module}Api } from '@shop/${module}-contract';
import { RFC3339, expectModuleError, type ContractTarget } from '@shop/platform/testing';

/** The interfaces the ${module} suite uses. */
export interface ${Module}ContractApis {
  readonly ${module}: ${Module}Api;
}

/**
 * The contract of \`${Module}Api\`, written once and run against every implementation of it: the
 * module in process, and its HTTP client talking to a process that hosts it. Every method, its
 * answers and its errors must be the same.
 */
export function ${module}ContractSuite(name: string, target: () => ContractTarget<${Module}ContractApis>): void {
  describe(\`${Module}Api contract (\${name})\`, () => {
    const ${module} = () => target().apis.${module};

    it('create${Thing} answers the new ${thing}, and get${Thing} answers the same', async () => {
      const author = randomUUID();
      const result = await ${module}().create${Thing}({ title: 'Contract', created_by: author });
      expect(result).toEqual({ created: true, ${thing}: { id: expect.any(String), title: 'Contract', created_by: author, created_at: expect.stringMatching(RFC3339) } });
      expect(await ${module}().get${Thing}(result.${thing}.id)).toEqual(result.${thing});
    });

    it('create${Thing} with a key: the same payload answers the first, another payload is idempotency_key_reused', async () => {
      const author = randomUUID();
      const key = \`contract-\${randomUUID()}\`;
      const first = await ${module}().create${Thing}({ title: 'Keyed', created_by: author }, { idempotency_key: key });
      expect(await ${module}().create${Thing}({ title: 'Keyed', created_by: author }, { idempotency_key: key })).toEqual({ ...first, created: false });
      await expectModuleError(${module}().create${Thing}({ title: 'Other', created_by: author }, { idempotency_key: key }), ${Module}Errors.idempotencyKeyReused, { detail: /${thing}/ });
    });

    it('get${Thing} of an unknown id is ${thing}_not_found', async () => {
      await expectModuleError(${module}().get${Thing}(randomUUID()), ${Module}Errors.${thing}NotFound, { detail: /no ${thing} with id/ });
    });

    it('list${Module} answers newest first, a page at a time', async () => {
      const a = await ${module}().create${Thing}({ title: 'Older', created_by: randomUUID() });
      const b = await ${module}().create${Thing}({ title: 'Newer', created_by: randomUUID() });
      const page = await ${module}().list${Module}(0);
      const ids = page.items.map((item) => item.id);
      expect(ids.indexOf(b.${thing}.id)).toBeLessThan(ids.indexOf(a.${thing}.id));
      expect(typeof page.has_more).toBe('boolean');
    });
  });
}
`,
  };
}
