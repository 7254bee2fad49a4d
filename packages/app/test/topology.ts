import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { signToken } from '@shop/platform';
import { createTestDatabase, type TestDatabase, type TestNats } from '@shop/platform/testing';
import { MODULE_NAMES, type ModuleName } from '../src/topology-config.ts';
import { ADMIN_ID, TEST_SECRET } from './harness.ts';
import { startServer, type Exit, type ServerEnv, type ServerProcess } from './process.ts';
import { startSmtpInbox } from './smtp-inbox.ts';
import type { FlowTarget } from './flows/checkout-flow.ts';
import { freePort } from '@shop/platform';
import { deleteNatsStream } from '@shop/platform/testing';

export { deleteNatsStream, freePort };

/**
 * Several real server processes of the same build, started from one layout: which process
 * hosts which modules. Everything else is derived the way an operator would write it: each
 * process gets MODULES, the `<MODULE>_URL` of every module it does not host (the first process
 * in the layout hosting it), SMTP_URL when it hosts notifications, and the shared settings
 * (one database, one NATS stream and subject prefix of this topology's own, one SERVICE_SECRET).
 */

export const SERVICE_SECRET = 'topology-tests-service-secret-0123456789';

/** One process of a layout. */
export interface ProcessSpec {
  readonly name: string;
  readonly modules: readonly ModuleName[];
  /** More settings, given every process's URL (e.g. `ORDERS_SHADOW_URL: url('copy')`). */
  readonly env?: (url: (process: string) => string) => ServerEnv;
  /**
   * A process outside the system's data: its own fresh database and its own NATS stream (it
   * still calls the layout's hosts for modules it does not host), and never a host for others.
   */
  readonly isolated?: boolean;
}

export interface Layout {
  readonly name: string;
  readonly processes: readonly ProcessSpec[];
}

const ALL = MODULE_NAMES;
const except = (...names: ModuleName[]) => ALL.filter((name) => !names.includes(name));

/** The four topologies the checkout must pass in, unchanged. */
export const LAYOUTS = {
  oneProcess: { name: 'all modules in one process', processes: [{ name: 'main', modules: ALL }] },
  ordersAlone: {
    name: 'orders alone + main',
    processes: [
      { name: 'main', modules: except('orders') },
      { name: 'orders', modules: ['orders'] },
    ],
  },
  paymentsAlone: {
    name: 'payments alone + main',
    processes: [
      { name: 'main', modules: except('payments') },
      { name: 'payments', modules: ['payments'] },
    ],
  },
  onePerModule: { name: 'one process per module', processes: ALL.map((name) => ({ name, modules: [name] })) },
} as const satisfies Record<string, Layout>;

export interface StartedProcess {
  readonly spec: ProcessSpec;
  readonly port: number;
  readonly url: string;
  readonly env: ServerEnv;
  readonly server: ServerProcess;
}

export interface RunningTopology extends FlowTarget {
  readonly layout: Layout;
  readonly database: TestDatabase;
  readonly nats: { readonly url: string; readonly stream: string; readonly subjectPrefix: string };
  /** Every process as it runs now (a restarted one replaces its entry). */
  readonly processes: ReadonlyMap<string, StartedProcess>;
  url(process: string): string;
  /** The process's /metrics text. */
  metrics(process: string): Promise<string>;
  /** Stops one process (SIGTERM: a clean shutdown; SIGKILL: a crash). */
  stop(process: string, signal?: NodeJS.Signals): Promise<Exit>;
  /** Starts a stopped process again: the same environment, the same port. */
  restart(process: string): Promise<StartedProcess>;
  /** Stops every process, then drops the databases and NATS streams, closes the inbox. */
  close(): Promise<void>;
}

export interface TopologyOptions {
  readonly nats: TestNats;
  /** Settings for every process (e.g. a payment provider); a process's own `env` wins. */
  readonly env?: ServerEnv;
}

let topologies = 0;
const RUN = randomBytes(3).toString('hex');

export async function startTopology(layout: Layout, options: TopologyOptions): Promise<RunningTopology> {
  const specs = layout.processes;
  const names = specs.map((spec) => spec.name);
  if (new Set(names).size !== names.length) throw new Error(`layout ${layout.name}: process names must be unique`);
  const hostOf = (module: ModuleName) => specs.find((spec) => !spec.isolated && spec.modules.includes(module));
  for (const module of ALL) if (!hostOf(module)) throw new Error(`layout ${layout.name} hosts ${module} nowhere`);

  const databases: TestDatabase[] = [];
  const streams: string[] = [];
  const namespace = () => {
    const n = ++topologies;
    const stream = `TOPO_${RUN}_${process.pid}_${n}`;
    streams.push(stream);
    return { NATS_STREAM: stream, NATS_SUBJECT_PREFIX: `topo.${RUN}.${process.pid}.${n}` };
  };
  const freshDatabase = async () => {
    const database = await createTestDatabase(inject('pgAdminUrl'));
    databases.push(database);
    return database;
  };

  const inbox = await startSmtpInbox();
  const processes = new Map<string, StartedProcess>();
  try {
    const database = await freshDatabase();
    const shared = namespace();
    // Ports first: processes refer to each other, so every URL must be known before any starts.
    const ports = new Map<string, number>();
    for (const name of names) ports.set(name, await freePort());
    const url = (name: string) => {
      const port = ports.get(name);
      if (port === undefined) throw new Error(`layout ${layout.name} has no process ${name}`);
      return `http://127.0.0.1:${port}`;
    };

    const envs = new Map<string, ServerEnv>();
    for (const spec of specs) {
      const own = spec.isolated ? { database: (await freshDatabase()).url, nats: namespace() } : { database: database.url, nats: shared };
      const elsewhere = Object.fromEntries(
        ALL.filter((module) => !spec.modules.includes(module)).map((module) => [`${module.toUpperCase()}_URL`, url(hostOf(module)!.name)]),
      );
      envs.set(spec.name, {
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(ports.get(spec.name)),
        // info: startServer waits for the "shop is serving" line.
        LOG_LEVEL: 'info',
        DATABASE_URL: own.database,
        AUTH_JWT_SECRET: TEST_SECRET,
        SERVICE_SECRET,
        NATS_URL: options.nats.url,
        ...own.nats,
        OUTBOX_SWEEP_INTERVAL_MS: '200',
        OUTBOX_RETRY_BASE_MS: '50',
        NOTIFICATION_SWEEP_INTERVAL_MS: '200',
        NOTIFICATION_RETRY_BASE_MS: '50',
        ...(spec.modules.includes('notifications') ? { SMTP_URL: inbox.url } : {}),
        ...options.env,
        MODULES: spec.modules.join(','),
        ...elsewhere,
        ...spec.env?.(url),
      });
    }

    const launch = async (spec: ProcessSpec): Promise<StartedProcess> => {
      const env = envs.get(spec.name)!;
      const server = await startServer(env);
      const started = { spec, port: ports.get(spec.name)!, url: server.url, env, server };
      processes.set(spec.name, started);
      return started;
    };
    await Promise.all(specs.map(launch));

    const at = (name: string) => {
      const started = processes.get(name);
      if (!started) throw new Error(`no process ${name} in ${layout.name}`);
      return started;
    };
    const adminToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
    let closing: Promise<void> | undefined;
    return {
      layout,
      database,
      nats: { url: options.nats.url, stream: shared.NATS_STREAM, subjectPrefix: shared.NATS_SUBJECT_PREFIX },
      processes,
      // Every process serves the whole public API; the isolated ones are not part of the system.
      urls: specs.filter((spec) => !spec.isolated).map((spec) => url(spec.name)),
      adminToken,
      tokenFor: (customerId, roles = []) => signToken(TEST_SECRET, { sub: customerId, roles }),
      inbox,
      url,
      metrics: async (name) => {
        const response = await fetch(`${url(name)}/metrics`);
        if (!response.ok) throw new Error(`GET ${name}/metrics answered ${response.status}`);
        return response.text();
      },
      stop: (name, signal = 'SIGTERM') => at(name).server.stop(signal),
      restart: async (name) => {
        const running = at(name);
        if (running.server.child.exitCode === null && running.server.child.signalCode === null) throw new Error(`${name} is still running`);
        return launch(running.spec);
      },
      close: () =>
        (closing ??= (async () => {
          await Promise.all([...processes.values()].map((started) => started.server.stop('SIGTERM')));
          await cleanUp();
        })()),
    };
  } catch (error) {
    await Promise.all([...processes.values()].map((started) => started.server.stop('SIGKILL')));
    await cleanUp().catch(() => undefined);
    throw error;
  }

  async function cleanUp(): Promise<void> {
    await inbox.close();
    for (const database of databases) await database.drop();
    for (const stream of streams) await deleteNatsStream(options.nats.url, stream);
  }
}


