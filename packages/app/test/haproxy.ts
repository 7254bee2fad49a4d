import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually } from '@shop/platform/testing';

/** `haproxy` from PATH, else Debian's /usr/sbin/haproxy; undefined when neither is there. */
export async function findHaproxy(): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'haproxy');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A group of replicas behind one frontend, health-checked on `GET /ready`. */
export interface Backend {
  readonly name: string;
  readonly port: number;
  readonly servers: ReadonlyArray<{ readonly name: string; readonly port: number }>;
}

export interface Balancer {
  /** Every backend's server states, as HAProxy sees them now (`UP`, `DOWN`, `MAINT`, `UP 1/2`...). */
  states(): Promise<Map<string, string>>;
  /** Requests HAProxy had to send again (`wretr`) or to another server (`wredis`), over every backend. */
  retries(): Promise<{ retried: number; redispatched: number }>;
  /** Waits until HAProxy counts `server` of `backend` as UP (after `rise` good checks). */
  waitUp(backend: string, server: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * HAProxy in front of replicas, as an operator would set it up for rolling restarts: checks of
 * `GET /ready` every 200 ms (2 failures take a server out, 2 successes put it back), retries of
 * a request whose connection failed or was closed unanswered, on another server (redispatch).
 * `publicBackend` spreads client traffic over every server, tracking each one's own check.
 */
export async function startHaproxy(binary: string, options: { backends: readonly Backend[]; publicPort: number; statsPort: number }): Promise<Balancer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'shop-haproxy-'));
  const file = path.join(dir, 'haproxy.cfg');
  const lines = [
    'global',
    '  maxconn 4000',
    'defaults',
    '  mode http',
    '  timeout connect 500ms',
    '  timeout client 60s',
    '  timeout server 30s',
    '  timeout check 1s',
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response',
    '  default-server inter 200 fastinter 100 downinter 200 fall 2 rise 2',
    'listen stats',
    `  bind 127.0.0.1:${options.statsPort}`,
    '  stats enable',
    '  stats uri /stats',
  ];
  for (const backend of options.backends) {
    lines.push(`listen ${backend.name}`, `  bind 127.0.0.1:${backend.port}`, '  balance roundrobin', '  option httpchk GET /ready');
    for (const server of backend.servers) lines.push(`  server ${server.name} 127.0.0.1:${server.port} check`);
  }
  lines.push('listen public', `  bind 127.0.0.1:${options.publicPort}`, '  balance roundrobin');
  for (const backend of options.backends) for (const server of backend.servers) lines.push(`  server ${server.name} 127.0.0.1:${server.port} track ${backend.name}/${server.name}`);
  await writeFile(file, lines.join('\n') + '\n');

  const child: ChildProcess = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const statsUrl = `http://127.0.0.1:${options.statsPort}/stats;csv`;
  const stats = async () => {
    const text = await (await fetch(statsUrl)).text();
    const [header, ...rows] = text.trim().split('\n');
    const columns = header!.replace(/^# /, '').split(',');
    return rows.map((row) => Object.fromEntries(row.split(',').map((cell, i) => [columns[i], cell])) as Record<string, string>);
  };
  const states = async () => new Map((await stats()).map((row) => [`${row.pxname}/${row.svname}`, row.status!]));
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited:\n${output}`);
      await states();
    }, 10_000, 50);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`HAProxy did not start: ${(error as Error).message}\n${output}`, { cause: error });
  }
  return {
    states,
    retries: async () => {
      const backends = (await stats()).filter((row) => row.svname === 'BACKEND');
      const sum = (column: string) => backends.reduce((total, row) => total + Number(row[column] || 0), 0);
      return { retried: sum('wretr'), redispatched: sum('wredis') };
    },
    waitUp: (backend, server, timeoutMs = 30_000) =>
      eventually(async () => {
        const state = (await states()).get(`${backend}/${server}`);
        if (state !== 'UP') throw new Error(`${backend}/${server} is ${state}`);
      }, timeoutMs, 50),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
