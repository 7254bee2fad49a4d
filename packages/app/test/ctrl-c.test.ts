import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TEST_SECRET } from './harness.ts';
import { REPO_ROOT, childEnv } from './process.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const RUNS = 20;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to "shop is serving", and from SIGINT to exit. */
  startMs: number;
  stopMs: number;
}

/**
 * Started as a terminal starts a command: a process group of its own (`detached`), Ctrl-C sent
 * to the whole group (`kill(-pid)`), so every process in it gets the SIGINT at once. The
 * embedded PostgreSQL must not be one of them: it would stop under the draining app.
 */
async function runUntilCtrlC(dataDir: string): Promise<Run> {
  const { env } = childEnv({ DATABASE_URL: undefined, DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const serving = new Promise<boolean>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('"msg":"shop is serving"')) resolve(true);
    });
    void closed.then(() => resolve(false));
  });
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 60_000);
  try {
    if (!(await serving)) throw new Error(`exited before serving\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    const servingAt = Date.now();
    process.kill(-child.pid!, 'SIGINT');
    const exit = await closed;
    return { ...exit, stdout, stderr, startMs: servingAt - startedAt, stopMs: Date.now() - servingAt };
  } finally {
    clearTimeout(timer);
  }
}

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'shop-ctrl-c-'));
});

afterAll(async () => {
  // Whatever a failed run left: its PostgreSQL (a group of its own) before the directory.
  const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
  if (existsSync(pidFile)) {
    try {
      process.kill(Number((await readFile(pidFile, 'utf8')).split('\n')[0]), 'SIGKILL');
    } catch {
      // gone
    }
  }
  await rm(dataDir, { recursive: true, force: true });
});

it(`Ctrl-C in a terminal stops as cleanly as SIGTERM, ${RUNS} times out of ${RUNS}`, { timeout: 240_000 }, async () => {
  const runs: Run[] = [];
  for (let n = 0; n < RUNS; n += 1) {
    const run = await runUntilCtrlC(dataDir);
    runs.push(run);
    const transcript = `run ${n + 1}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    expect({ code: run.code, signal: run.signal }, transcript).toEqual({ code: 0, signal: null });
    const logs = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(logs.some((entry) => entry.msg === 'stopped'), transcript).toBe(true);
    expect(logs.filter((entry) => entry.level >= 50), transcript).toEqual([]);
    expect(run.stderr, transcript).toBe('');
    // Its PostgreSQL stopped with it, not before it and not never.
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid')), transcript).toBe(false);
  }
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  console.log(
    `${RUNS}/${RUNS} clean; start ${Math.round(sum(runs.map((r) => r.startMs)) / RUNS)} ms, stop ${Math.round(sum(runs.map((r) => r.stopMs)) / RUNS)} ms on average`,
  );
});
