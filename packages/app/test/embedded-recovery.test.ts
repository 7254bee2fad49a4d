import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@shop/platform';
import { ADMIN_ID, TEST_SECRET } from './harness.ts';
import { call, startServer, type ServerProcess } from './process.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of the processes whose command line names `needle` (what `pgrep -f` finds). */
async function processesNaming(needle: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      if (cmdline.includes(needle)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** A pid that no process has, nor will soon: the top of the range (new pids are handed out upwards). */
async function deadPid(): Promise<number> {
  const max = Number((await readFile('/proc/sys/kernel/pid_max', 'utf8')).trim());
  for (let candidate = max - 1; ; candidate -= 1) if (!isAlive(candidate)) return candidate;
}

/** The embedded PostgreSQL keeps its data across restarts and recovers from a killed process. */
describe('the embedded PostgreSQL after a crash', () => {
  let dataDir: string;
  let pgdata: string;
  let adminToken: string;
  const started: ServerProcess[] = [];

  const start = async () => {
    const server = await startServer(
      { DATABASE_URL: undefined, DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      { timeoutMs: 80_000 },
    );
    started.push(server);
    return server;
  };
  /** Leaves a lock file as PostgreSQL would: owned by the data directory's owner (`postgres` when run as root). */
  const writeLock = async (lines: string[]) => {
    const file = path.join(pgdata, 'postmaster.pid');
    await writeFile(file, lines.join('\n'), { mode: 0o600 });
    const owner = await stat(pgdata);
    await chown(file, owner.uid, owner.gid);
  };
  const postmasterPid = async () => Number((await readFile(path.join(pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0]);

  /** A clean stop: exit code 0, and no PostgreSQL left behind for this data directory. */
  const stopCleanly = async (server: ServerProcess) => {
    const pid = await postmasterPid();
    const exit = await server.stop('SIGTERM');
    expect(exit, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
    expect(isAlive(pid)).toBe(false);
    expect(await processesNaming(pgdata)).toEqual([]);
    expect(existsSync(path.join(pgdata, 'postmaster.pid'))).toBe(false);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shop-recovery-'));
    pgdata = path.join(dataDir, 'postgres');
    adminToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
  });

  afterAll(async () => {
    for (const server of started) await server.stop('SIGKILL');
    // Whatever a failed test left running on this data directory: stop it before removing the directory.
    for (const pid of await processesNaming(pgdata)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  let productId: string;

  it('comes back after a SIGKILL left its PostgreSQL running, with the data', { timeout: 90_000 }, async () => {
    const first = await start();
    const product = await call(first.url, 'POST', '/api/products', {
      token: adminToken,
      body: { sku: 'KEEP-1', name: 'Survivor', price_cents: 999, stock_quantity: 5 },
    });
    expect(product.status).toBe(201);
    productId = product.body.id;

    const orphan = await postmasterPid();
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    // The premise: the killed process's PostgreSQL is still running, its parent gone.
    expect(isAlive(orphan)).toBe(true);

    const second = await start();
    expect(isAlive(orphan)).toBe(false);
    expect(second.logs().some((entry) => entry.msg === 'stopping an embedded PostgreSQL left running by a killed process')).toBe(true);
    const found = await call(second.url, 'GET', `/api/products/${productId}`, { token: adminToken });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: productId, sku: 'KEEP-1', stock_quantity: 5 });

    await stopCleanly(second);
  });

  it('starts over a stale postmaster.pid whose process is gone', { timeout: 90_000 }, async () => {
    // What a SIGKILLed PostgreSQL leaves: its lock file, naming a pid nobody has.
    const running = await start();
    const lock = await readFile(path.join(pgdata, 'postmaster.pid'), 'utf8');
    await stopCleanly(running);
    const lines = lock.split('\n');
    lines[0] = String(await deadPid());
    await writeLock(lines);

    const again = await start();
    const found = await call(again.url, 'GET', `/api/products/${productId}`, { token: adminToken });
    expect(found.status).toBe(200);
    await stopCleanly(again);
  });

  it('starts over a stale postmaster.pid whose pid now belongs to an unrelated process, and leaves that process alone', { timeout: 90_000 }, async () => {
    // After a reboot, pids are reused: the lock may name a live process that is not PostgreSQL.
    // Started through a shell that exits at once, it is nobody's child (like an orphan server).
    const stranger = Number(execFileSync('sh', ['-c', 'sleep 120 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' }).trim());
    try {
      const running = await start();
      const lock = await readFile(path.join(pgdata, 'postmaster.pid'), 'utf8');
      await stopCleanly(running);
      const lines = lock.split('\n');
      lines[0] = String(stranger);
      await writeLock(lines);

      const again = await start();
      expect(isAlive(stranger)).toBe(true);
      expect(again.logs().some((entry) => entry.msg === 'removing a stale postmaster.pid whose pid now belongs to another process')).toBe(true);
      const found = await call(again.url, 'GET', `/api/products/${productId}`, { token: adminToken });
      expect(found.status).toBe(200);
      await stopCleanly(again);
      expect(isAlive(stranger)).toBe(true);
    } finally {
      try {
        process.kill(stranger, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});
