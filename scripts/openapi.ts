/**
 * `npm run openapi:lint`: builds the OpenAPI document exactly as `GET /openapi.json` serves it
 * (packages/app/src/openapi-document.ts: the app's modules and routes, no database, no socket),
 * writes it to a temporary file and lints it with Redocly CLI (redocly.yaml) and Spectral
 * (.spectral.yaml). Any error or warning fails: a rule that does not apply is turned off in
 * those files, with the reason.
 *
 *   node --import tsx scripts/openapi.ts            lint
 *   node --import tsx scripts/openapi.ts --write F  also keep the document in F
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openApiDocument } from '../packages/app/src/openapi-document.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { write: { type: 'string' } } });

const directory = await mkdtemp(path.join(tmpdir(), 'shop-openapi-'));
try {
  const file = path.join(directory, 'openapi.json');
  const text = `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
  await writeFile(file, text);
  if (values.write) await writeFile(values.write, text);
  const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
  const linters = [
    ['Redocly', bin('redocly'), ['lint', '--config', path.join(root, 'redocly.yaml'), file]],
    ['Spectral', bin('spectral'), ['lint', '--ruleset', path.join(root, '.spectral.yaml'), '--fail-severity', 'warn', file]],
  ] as const;
  let failed = false;
  for (const [name, command, args] of linters) {
    console.log(`--- ${name}`);
    // No usage telemetry or update check from a lint run.
    const run = spawnSync(command, [...args], { cwd: root, stdio: 'inherit', env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
    if (run.status !== 0) {
      failed = true;
      console.error(`${name} found problems in the OpenAPI document (exit ${run.status ?? run.signal})`);
    }
  }
  process.exitCode = failed ? 1 : 0;
} finally {
  await rm(directory, { recursive: true, force: true });
}
