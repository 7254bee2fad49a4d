import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The repository root (where `npm start` runs) and the entry point it runs. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
/** What `npm run build` writes (the release) and `npm start` runs. */
export const BUILT_MAIN = fileURLToPath(new URL('../../../release/dist/main.js', import.meta.url));

/** The sources under tsx (every test's default), the build `npm start` runs, or node with these arguments in that folder (a release copied elsewhere). */
export type Entry = 'sources' | 'built' | { readonly args: readonly string[]; readonly cwd: string };
const ARGS: Record<'sources' | 'built', readonly string[]> = { sources: ['--import', 'tsx', MAIN], built: ['--enable-source-maps', BUILT_MAIN] };

/** Variables the server reads: never inherited from the test process, only set on purpose. */
const CONFIG_VARS = [
  'DATABASE_URL',
  'EMBEDDED_POSTGRES',
  'DATA_DIR',
  'PORT',
  'HOST',
  'ADMIN_PORT',
  'LOG_LEVEL',
  'ACCESS_LOG',
  'MODULES',
  'NODE_ENV',
  'AUTH_JWT_SECRET',
  'AUTH_JWKS_URL',
  'AUTH_JWT_ISSUER',
  'AUTH_JWT_AUDIENCE',
  'SHUTDOWN_TIMEOUT_MS',
  'SHUTDOWN_DRAIN_MS',
  'DB_POOL_SIZE',
  'OUTBOX_MAX_ATTEMPTS',
  'OUTBOX_SWEEP_INTERVAL_MS',
  'OUTBOX_RETRY_BASE_MS',
  'PAYMENT_PROVIDER',
  'STRIPE_SECRET_KEY',
  'STRIPE_API_URL',
  'PAYMENTS_RECONCILE_INTERVAL_MS',
  'PAYMENTS_RECONCILE_AFTER_MS',
  'SMTP_URL',
  'EMAIL_FROM',
  'VAPID_PUBLIC_KEY',
  'VAPID_PRIVATE_KEY',
  'VAPID_SUBJECT',
  'NOTIFICATION_MAX_ATTEMPTS',
  'NOTIFICATION_RETRY_BASE_MS',
  'NOTIFICATION_SWEEP_INTERVAL_MS',
  'SERVICE_SECRET',
  // Topology: where each module runs, and the bus between processes.
  'NATS_URL',
  'NATS_STREAM',
  'NATS_SUBJECT_PREFIX',
  ...['ORDERS', 'INVENTORY', 'PAYMENTS', 'NOTIFICATIONS'].flatMap((module) => [`${module}_URL`, `${module}_SHADOW_URL`, `${module}_REMOTE_PERCENT`, `${module}_DATABASE_URL`]),
  'DB_MODULE_ROLES',
];

/** `undefined` removes a variable from the child's environment. */
export type ServerEnv = Record<string, string | undefined>;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How a server process was started: the same command for every process, only `env` differs. */
export interface Invocation {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** What the caller set (the rest of the child's environment is the test process's, minus CONFIG_VARS). */
  readonly env: Readonly<ServerEnv>;
}

export interface ServerProcess {
  /** http://127.0.0.1:<port> (the logged url, with the loopback address the server listens on). */
  readonly url: string;
  readonly child: ChildProcess;
  readonly invocation: Invocation;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** stdout's JSON log lines, parsed (other lines skipped). */
  logs(): Array<Record<string, any>>;
  /** Settles when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/**
 * The child's environment: the test process's, minus every server setting, plus `env`. Unless
 * `env` names a DATA_DIR, a temporary one (`ownDir`, for the caller to remove): the server writes
 * its dev tokens there even with a DATABASE_URL.
 */
export function childEnv(env: ServerEnv): { env: NodeJS.ProcessEnv; ownDir?: string } {
  const result: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONFIG_VARS) delete result[name];
  const ownDir = 'DATA_DIR' in env ? undefined : mkdtempSync(path.join(tmpdir(), 'shop-proc-'));
  if (ownDir) result.DATA_DIR = ownDir;
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return { env: result, ...(ownDir ? { ownDir } : {}) };
}

interface Launched {
  invocation: Invocation;
  child: ChildProcess;
  out: string[];
  err: string[];
  exited: Promise<Exit>;
}

function launch(env: ServerEnv, entry: Entry = 'sources'): Launched {
  const { env: childEnvironment, ownDir } = childEnv(env);
  const { args, cwd } = typeof entry === 'string' ? { args: ARGS[entry], cwd: REPO_ROOT } : entry;
  const invocation: Invocation = { command: process.execPath, args, cwd, env: { ...env } };
  const child = spawn(invocation.command, [...invocation.args], { cwd: invocation.cwd, env: childEnvironment, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => out.push(chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => err.push(chunk));
  // 'close' (not 'exit'): every byte of stdout/stderr has been read by then.
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => {
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  return { invocation, child, out, err, exited };
}

function parseLogs(text: string): Array<Record<string, any>> {
  const logs: Array<Record<string, any>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      logs.push(JSON.parse(line));
    } catch {
      // a partial or non-JSON line
    }
  }
  return logs;
}

/** Starts `node --import tsx packages/app/src/main.ts` (or the build) and waits for "shop is serving". */
export async function startServer(env: ServerEnv, options: { timeoutMs?: number; entry?: Entry } = {}): Promise<ServerProcess> {
  const { invocation, child, out, err, exited } = launch(env, options.entry);
  const stdout = () => out.join('');
  const stderr = () => err.join('');
  const timeoutMs = options.timeoutMs ?? 60_000;

  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const [entry] = parseLogs(line);
        if (entry?.msg === 'shop is serving' && typeof entry.url === 'string') {
          done();
          resolve(entry.url.replace('//localhost:', '//127.0.0.1:'));
          return;
        }
      }
    };
    const timer = setTimeout(() => {
      done();
      child.kill('SIGKILL');
      reject(new Error(`the server did not serve within ${timeoutMs} ms\nstdout:\n${stdout()}\nstderr:\n${stderr()}`));
    }, timeoutMs);
    const onExit = () => {
      done();
      reject(new Error(`the server exited before serving\nstdout:\n${stdout()}\nstderr:\n${stderr()}`));
    };
    const done = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('close', onExit);
    };
    child.stdout!.on('data', onData);
    child.once('close', onExit);
  });

  return {
    url,
    child,
    invocation,
    stdout,
    stderr,
    logs: () => parseLogs(stdout()),
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the server to its end (for configurations that must stop it at start). */
export async function runToExit(env: ServerEnv, timeoutMs = 30_000): Promise<Exit & { stdout: string; stderr: string }> {
  const { child, out, err, exited } = launch(env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await exited;
  clearTimeout(timer);
  return { ...exit, stdout: out.join(''), stderr: err.join('') };
}

export { call } from './http-call.ts';
