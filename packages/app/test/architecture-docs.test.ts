import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDocs, renderArchitecture, STALE_MESSAGE } from '../../../scripts/architecture-docs.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** docs/architecture.md is generated from the code; `npm run docs:check` fails CI when it is stale. */
describe('generated architecture docs (scripts/architecture-docs.ts)', () => {
  let generated: string;
  let dir: string;
  beforeAll(async () => {
    generated = await renderArchitecture(root);
    dir = await mkdtemp(path.join(tmpdir(), 'shop-docs-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // Whether the committed file is up to date is `npm run docs:check`, part of `npm run check`.
  it('accepts an identical copy', () => {
    expect(compareDocs(generated, generated)).toBeNull();
  });

  it('is deterministic', async () => {
    expect(await renderArchitecture(root)).toBe(generated);
  });

  it('reads the module graph from the code', () => {
    expect(generated).toContain('  payments -->|OrdersApi| orders');
    expect(generated).toContain('  orders -.->|OrderCancelled, OrderCreated, OrderShipped| inventory');
    expect(generated).toContain('| `createOrder` | idempotent-write | Prices come from the catalog (inventory), never from the caller. |');
  });

  it('finds a stale or missing copy out of date', () => {
    expect(compareDocs(generated, generated.replace('| `getOrder` | read |', '| `getOrder` | write |'))).toBe(STALE_MESSAGE);
    expect(compareDocs(generated, undefined)).toBe(STALE_MESSAGE);
  });

  it('fails docs:check with one clear line on a stale file', async () => {
    const stale = path.join(dir, 'architecture.md');
    await writeFile(stale, `${generated}\nA hand edit.\n`);
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/architecture-docs.ts'), '--check', stale], { cwd: root });
    await expect(run).rejects.toMatchObject({ code: 1, stderr: 'docs/architecture.md is out of date: run npm run docs\n' });
  });
});
