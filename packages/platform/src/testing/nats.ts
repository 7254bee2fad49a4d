import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../net.ts';

/** A NATS server with JetStream for a test file. `restart` keeps its port and its stored streams. */
export interface TestNats {
  readonly url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The NATS server in NATS_URL when set (CI: then it must be reachable, a test never skips);
 * otherwise a fresh `nats-server` of our own when one is on PATH; otherwise undefined, with a
 * loud warning, so the caller can `describe.skipIf(!nats)` on a machine without NATS.
 */
export async function startNatsForTests(): Promise<TestNats | undefined> {
  const url = process.env.NATS_URL;
  if (url) {
    const { hostname, port } = new URL(url);
    if (!(await canConnect(hostname, Number(port || 4222)))) throw new Error(`NATS_URL=${url} is set, but no NATS server answers there`);
    return {
      url,
      restart: () => Promise.reject(new Error('cannot restart the NATS server in NATS_URL; use spawnNatsServer() for restart tests')),
      stop: async () => {},
    };
  }
  return spawnNatsServer();
}

/** Always a server of our own (restart tests need one). Undefined, loudly, without `nats-server` (an error when NATS_URL is set). */
export async function spawnNatsServer(): Promise<TestNats | undefined> {
  const binary = await findOnPath('nats-server');
  if (!binary) {
    if (process.env.NATS_URL) throw new Error('NATS_URL is set (CI), but nats-server, needed for the restart tests, is not on PATH');
    warnSkipped();
    return undefined;
  }
  const port = await freePort();
  const storeDir = await mkdtemp(path.join(tmpdir(), 'shop-test-nats-'));
  let server: ChildProcess | undefined = await launch(binary, port, storeDir);
  return {
    url: `nats://127.0.0.1:${port}`,
    async restart() {
      await kill(server);
      server = await launch(binary, port, storeDir);
    },
    async stop() {
      await kill(server);
      server = undefined;
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

async function launch(binary: string, port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`nats-server did not become ready within 10 s:\n${output}`)), 10_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`nats-server exited with code ${code}:\n${output}`)));
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      // Logged once JetStream has restored its streams and clients are accepted.
      if (output.includes('Server is ready')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
      }
    });
  });
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();
  return child;
}

/** SIGTERM: a clean shutdown (a restart, not a crash), so the store is flushed; waits for the exit. */
async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

let warned = false;

function warnSkipped(): void {
  if (warned) return;
  warned = true;
  const banner = '!'.repeat(78);
  console.warn(
    `\n${banner}\n!! NATS tests SKIPPED: no NATS_URL is set and no nats-server is on PATH.\n` +
      `!! Install nats-server (https://github.com/nats-io/nats-server) or set NATS_URL=nats://host:4222.\n${banner}\n`,
  );
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}


function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 3_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/**
 * Deletes a JetStream stream a test or benchmark made, so a shared NATS server keeps nothing of
 * it. Best effort: an unreachable server or a missing stream is not an error.
 */
export async function deleteNatsStream(natsUrl: string, stream: string): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  try {
    const nc = await connect({ servers: natsUrl, timeout: 3_000, name: 'stream-cleanup' });
    try {
      await (await jetstreamManager(nc)).streams.delete(stream);
    } finally {
      await nc.close();
    }
  } catch {
    // gone already, or no server: nothing to clean
  }
}
