import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, startEmbeddedPostgres, type EmbeddedPostgres } from '@shop/platform';
import { createTestDatabase, spawnNatsServer, type TestDatabase, type TestNats } from '@shop/platform/testing';
import { freePort } from '@shop/platform';
import { deleteNatsStream } from '@shop/platform/testing';

export { deleteNatsStream, freePort };

/** Shared plumbing of the benchmark groups: the database server, NATS, processes, tokens, statistics. */

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** What `npm start` runs: the build of packages/app (scripts/build.ts), made at the start of each run. */
export const MAIN = fileURLToPath(new URL('../release/dist/main.js', import.meta.url));
export const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
export const SERVICE_SECRET = 'bench-service-secret-0123456789-abcdefghij';
export const ADMIN_ID = 'a0000000-0000-4000-8000-0000000000aa';

export interface Settings {
  readonly quick: boolean;
  /** Seconds of measured load per autocannon run. */
  readonly duration: number;
  readonly warmup: number;
  readonly connections: number;
}

/** What every group gets: a PostgreSQL server to make databases on, NATS if any, and cleanup. */
export interface BenchEnv {
  readonly settings: Settings;
  readonly pgAdminUrl: string;
  readonly pgKind: string;
  readonly nats: TestNats | undefined;
  /** A fresh database on the server, dropped (with its module roles) at the end of the run. */
  database(): Promise<TestDatabase>;
  /** Registers cleanup, run in reverse order at the end (even on failure). */
  defer(cleanup: () => Promise<unknown>): void;
  close(): Promise<void>;
}

export async function openEnv(settings: Settings): Promise<BenchEnv> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const defer = (cleanup: () => Promise<unknown>) => void cleanups.push(cleanup);
  let pgAdminUrl = process.env.DATABASE_URL;
  let pgKind = 'DATABASE_URL';
  if (!pgAdminUrl) {
    const dir = await mkdtemp(path.join(tmpdir(), 'shop-bench-pg-'));
    const embedded: EmbeddedPostgres = await startEmbeddedPostgres(dir, createLogger('warn'));
    defer(() => rm(dir, { recursive: true, force: true }));
    defer(() => embedded.stop());
    pgAdminUrl = embedded.url;
    pgKind = 'embedded';
  }
  let nats: TestNats | undefined;
  if (process.env.NATS_URL) nats = { url: process.env.NATS_URL, restart: async () => undefined, stop: async () => undefined };
  else {
    nats = await spawnNatsServer();
    if (nats) defer(() => nats!.stop());
  }
  const admin = pgAdminUrl;
  return {
    settings,
    pgAdminUrl: admin,
    pgKind,
    nats,
    async database() {
      const db = await createTestDatabase(admin);
      defer(() => db.drop());
      return db;
    },
    defer,
    async close() {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          process.stderr.write(`cleanup failed: ${(error as Error).message}\n`);
        }
      }
    },
  };
}

// --- tokens ---------------------------------------------------------------------------------

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/** An HS256 token as the app's signToken makes it, but synchronous (thousands are made per run). */
export function token(sub: string, roles: string[] = []): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = b64(JSON.stringify({ roles, sub, iat: now, exp: now + 86_400 }));
  const signature = createHmac('sha256', JWT_SECRET).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${signature}`;
}

export const adminToken = () => token(ADMIN_ID, ['admin']);

// --- processes ------------------------------------------------------------------------------

export interface Child {
  readonly url: string;
  readonly child: ChildProcess;
  /** Milliseconds from spawn to the first 200 from /ready. */
  readonly readyMs: number;
  rssMb(): Promise<number>;
  stop(): Promise<void>;
  output(): string;
}


/** Resident set size of a process, from /proc (MB). */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/**
 * Spawns `node <args>` and waits until `url/ready` (or `/health`) answers 200. Used for the app
 * (`--enable-source-maps release/dist/main.js`, exactly as `npm start` runs it) and the baseline.
 */
export async function spawnServer(args: readonly string[], env: Record<string, string>, options: { port?: number; readyPath?: string; timeoutMs?: number } = {}): Promise<Child> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [...args], {
    cwd: REPO_ROOT,
    env: { ...cleanEnv(), HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => out.length < 2000 && out.push(chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => out.length < 2000 && out.push(chunk));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = started + (options.timeoutMs ?? 60_000);
  const readyPath = options.readyPath ?? '/ready';
  for (;;) {
    if (dead) throw new Error(`${args.join(' ')} exited before ready:\n${out.join('')}`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} not ready in time:\n${out.join('')}`);
    }
    try {
      const response = await fetch(`${url}${readyPath}`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  const readyMs = performance.now() - started;
  return {
    url,
    child,
    readyMs,
    rssMb: () => rssOf(child.pid!),
    output: () => out.join(''),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The bench's environment minus every setting the app reads: a child gets only what we give it. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(DATABASE_URL|DATA_DIR|PORT|HOST|LOG_LEVEL|MODULES|NODE_ENV|NATS_|SERVICE_SECRET|AUTH_|OUTBOX_|PAYMENT|STRIPE_|SMTP_|NOTIFICATION_|DB_|VAPID_|OTEL_|ACCESS_LOG)/.test(name)) delete env[name];
    if (/^(ORDERS|INVENTORY|PAYMENTS|NOTIFICATIONS)_/.test(name)) delete env[name];
  }
  return env;
}

/** The app's environment for a benchmark: production-like (info logs, default pools), test payment provider. */
/** Settings of every app process of a run; `BENCH_APP_ENV` (JSON) adds some, e.g. `{"DB_POOL_SIZE":"40"}`, to compare. */
export function appEnv(databaseUrl: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env.BENCH_APP_ENV ? (JSON.parse(process.env.BENCH_APP_ENV) as Record<string, string>) : {}),
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: JWT_SECRET,
    PAYMENT_PROVIDER: 'test',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export const APP_ARGS = ['--enable-source-maps', MAIN] as const;

/** `npm run build`: the app is measured as `npm start` runs it, built from the sources of this checkout. */
export function buildApp(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

export async function tempDir(env: BenchEnv, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  env.defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

// --- HTTP -----------------------------------------------------------------------------------

export async function http<T = any>(method: string, url: string, body?: unknown, bearer?: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed as T };
}

/** Two products with stock enough for any run, created through the app's admin API. */
export async function seedProducts(url: string, count = 2): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { status, body } = await http('POST', `${url}/api/products`, { sku: `BENCH-${Date.now()}-${i}`, name: `Bench product ${i}`, price_cents: 1250 + i, stock_quantity: 1_000_000_000 }, adminToken());
    if (status !== 201 && status !== 200) throw new Error(`seeding a product answered ${status}: ${JSON.stringify(body)}`);
    ids.push(body.id);
  }
  return ids;
}

// --- CPU per request, from /proc ---------------------------------------------------------------

/**
 * User + system clock ticks a process has used, every thread (/proc/<pid>/stat, fields 14 and
 * 15; 100 a second). What was really spent, where a wall-clock profile on a busy VM charges time
 * spent waiting in a system call to the process.
 */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The parent process id (/proc/<pid>/stat, field 4). */
function parentOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
}

/**
 * The PostgreSQL server a URL reaches, as the process whose CPU to count: its postmaster (the
 * parent of the backend serving this connection), on this machine. Undefined when it is not here.
 */
export async function postmasterOf(url: string): Promise<number | undefined> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const backend = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    return parentOf(backend);
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}

/**
 * Ticks of a PostgreSQL server's processes, by pid: the postmaster and its children (backends,
 * walwriter, checkpointer, autovacuum). Without a postmaster, of every process named `postgres`
 * on the machine (other servers included: read it knowing what else runs).
 */
export function postgresTicks(postmaster?: number): Map<number, number> {
  const pids = postmaster
    ? [postmaster, ...readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
        try {
          return parentOf(pid) === postmaster;
        } catch {
          return false; // gone meanwhile
        }
      })]
    : execFileSync('pgrep', ['-x', 'postgres']).toString().trim().split('\n').map(Number);
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    try {
      ticks.set(pid, cpuTicks(pid));
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/** CPU ticks spent between two `postgresTicks` readings: processes alive at the end, from 0 if they started meanwhile. */
function ticksBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ticks] of after) sum += Math.max(0, ticks - (before.get(pid) ?? 0));
  return sum;
}

/**
 * Runs `load` and reports the µs of CPU each of its requests cost the server process and
 * PostgreSQL (`postmaster`'s processes; see postgresTicks).
 */
export async function cpuPerRequest<T extends { requests: { total: number } }>(
  pid: number,
  load: () => Promise<T>,
  postmaster?: number,
): Promise<{ result: T; serverUs: number; postgresUs: number }> {
  const before = { server: cpuTicks(pid), postgres: postgresTicks(postmaster) };
  const result = await load();
  const perRequest = (ticks: number) => Math.round((ticks * 10_000) / Math.max(1, result.requests.total)); // 100 ticks a second → µs
  return { result, serverUs: perRequest(cpuTicks(pid) - before.server), postgresUs: perRequest(ticksBetween(before.postgres, postgresTicks(postmaster))) };
}

/** Waits until a process is nearly idle (the app's saga finishing its backlog), at most 60 s. */
export async function quiet(pid: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = cpuTicks(pid);
  while (Date.now() < deadline) {
    await sleep(250);
    const now = cpuTicks(pid);
    // ticks are 10 ms: under 2 ticks in 250 ms is under 8 % of a core.
    if (now - last < 2) return;
    last = now;
  }
}

// --- statistics -----------------------------------------------------------------------------

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function summary(samples: number[], digits = 2): { p50: number; p99: number; mean: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return { p50: round(percentile(sorted, 50), digits), p99: round(percentile(sorted, 99), digits), mean: round(mean, digits), n: sorted.length };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

