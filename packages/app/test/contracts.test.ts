import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EDGE, ModuleError, type AccessTable, type MethodAccess } from '@shop/contract-kit';
import { inventoryContractSuite } from '@shop/inventory/contract-suite';
import { notificationsContractSuite } from '@shop/notifications/contract-suite';
import { checkOrderNotFound, ordersContractSuite } from '@shop/orders/contract-suite';
import type { OrdersApi } from '@shop/orders-contract';
import { paymentsContractSuite } from '@shop/payments/contract-suite';
import { reviewsContractSuite } from '@shop/reviews/contract-suite';
import { PlatformErrors, createLogger } from '@shop/platform';
import { RemoteModule, ServiceCredential, handedTo, remoteApi } from '@shop/distribution';
import { createTestDatabase, type ContractTarget, type TestDatabase } from '@shop/platform/testing';
import { ACCESS_TABLES, METHOD_TABLES, type ModuleApis } from '../src/composition.ts';
import { MODULE_NAMES } from '../src/topology-config.ts';
import { TEST_SECRET, startTestApp, type TestApp } from './harness.ts';
import { startServer, type ServerProcess } from './process.ts';

/**
 * Each module interface's contract suite, run against both of its implementations: `local`, the
 * modules in this process (what a one-process app uses), and `remote`, their HTTP clients
 * talking to a real server process that hosts every module. The same tests pass on both: moving
 * a module out of the process swaps an implementation and changes nothing a caller can see.
 * Each deployment starts once for the file; tests use fresh ids and SKUs so they don't collide.
 */
const SECRET = 'contract-suite-service-secret-0123456789';

let local: TestApp | undefined;
let server: ServerProcess | undefined;
let database: TestDatabase | undefined;
let remotes: RemoteModule[] = [];
let localTarget: ContractTarget<ModuleApis> | undefined;
let remoteTarget: ContractTarget<ModuleApis> | undefined;

beforeAll(async () => {
  const logger = createLogger('silent');
  const [app, remote] = await Promise.all([
    startTestApp(),
    (async () => {
      database = await createTestDatabase(inject('pgAdminUrl'));
      return startServer({
        DATABASE_URL: database.url,
        SERVICE_SECRET: SECRET,
        AUTH_JWT_SECRET: TEST_SECRET,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info', // startServer waits for the "shop is serving" line
        NODE_ENV: 'test',
        OUTBOX_SWEEP_INTERVAL_MS: '200',
        OUTBOX_RETRY_BASE_MS: '50',
        NOTIFICATION_SWEEP_INTERVAL_MS: '200',
        NOTIFICATION_RETRY_BASE_MS: '50',
      });
    })(),
  ]);
  local = app;
  server = remote;
  localTarget = { apis: app.app.apis };
  // No default caller: every call is signed as the module the contract allows to make it.
  const credential = new ServiceCredential(SECRET);
  const at = (module: keyof ModuleApis) => {
    const connection = new RemoteModule({ module, url: remote.url, credential, logger });
    remotes.push(connection);
    return connection;
  };
  remoteTarget = {
    remote: true,
    // Each client as the composition root derives it: from the contract's method table.
    apis: Object.fromEntries(
      MODULE_NAMES.map((name) => [name, asAllowedCaller(remoteApi<object>(at(name), METHOD_TABLES[name]), ACCESS_TABLES[name] as AccessTable<object>)]),
    ) as unknown as ModuleApis,
  };
});

afterAll(async () => {
  await Promise.all(remotes.map((remote) => remote.close()));
  remotes = [];
  await local?.stop();
  await server?.stop();
  await database?.drop();
});

const targets = {
  local: () => localTarget ?? fail('the local target did not start'),
  remote: () => remoteTarget ?? fail('the remote target did not start'),
};

/**
 * `api` with each method called as the first caller its contract allows (`orders` for
 * `inventory.getProducts`, `edge` for a route's method), as a deployment's processes call it. A
 * method no process may call goes out as `edge`, and is refused (the suites expect it).
 */
function asAllowedCaller<Api extends object>(api: Api, access: AccessTable<Api>): Api {
  const calls = api as Record<string, (...args: unknown[]) => Promise<unknown>>;
  return Object.fromEntries(
    Object.entries(access as Record<string, MethodAccess>).map(([method, rule]) => [method, handedTo(rule.callers[0] ?? EDGE, { [method]: calls[method]! })[method]!]),
  ) as Api;
}

function fail(message: string): never {
  throw new Error(message);
}

for (const [name, target] of Object.entries(targets)) {
  inventoryContractSuite(name, target);
  ordersContractSuite(name, target);
  paymentsContractSuite(name, target);
  notificationsContractSuite(name, target);
  reviewsContractSuite(name, target);
}

describe('the contract suite catches a client that changes behaviour', () => {
  /** The remote orders client, except that getOrder loses the error as `lose` does. */
  const broken = (lose: (error: unknown) => Error): OrdersApi => {
    const orders = targets.remote().apis.orders;
    return { ...orders, getOrder: (id) => orders.getOrder(id).catch((error: unknown) => Promise.reject(lose(error))) };
  };

  it('passes with the real remote client', async () => {
    await checkOrderNotFound(targets.remote().apis.orders);
  });

  it('fails when every remote error becomes a generic Error', async () => {
    await expect(checkOrderNotFound(broken((error) => new Error(`remote call failed: ${String(error)}`)))).rejects.toThrow(
      /expected a order_not_found ModuleError, got Error: remote call failed/,
    );
  });

  it('fails when every remote error becomes `internal` (a 500)', async () => {
    await expect(checkOrderNotFound(broken(() => new ModuleError(PlatformErrors.internal, 'an unexpected error occurred')))).rejects.toThrow(/order_not_found/);
  });
});
