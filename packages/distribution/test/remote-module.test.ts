import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { isModuleError, type ModuleError } from '@shop/contract-kit';
import { Telemetry, TokenVerifier, buildHttpServer, activeRequestId, activeTraceIds, eventContext, runInContext, signToken } from '@shop/platform';
import { RemoteModule, ServiceCredential, internalRoutes, remoteApi } from '../src/index.ts';
import { CatalogAccess, CatalogMethods, FakeCatalog, ITEMS, memoryLogger, type CatalogApi } from './fixtures/catalog.ts';

const SERVICE_SECRET = 'service-secret-service-secret-0123456789';
const CUSTOMER_SECRET = 'customer-secret-customer-secret-0123456789';

/** A fake catalog that also remembers the request context each call ran in (for tracing). */
class TracedCatalog extends FakeCatalog {
  readonly contexts: Array<{ requestId: string | undefined; trace: ReturnType<typeof activeTraceIds> }> = [];
  override async getItem(id: string) {
    this.contexts.push({ requestId: activeRequestId(), trace: activeTraceIds() });
    return super.getItem(id);
  }
}

/** A process hosting the catalog "module", with its internal routes. */
async function host(catalog: CatalogApi, port = 0): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildHttpServer({
    logger: memoryLogger().logger,
    telemetry: new Telemetry(),
    verifier: new TokenVerifier({ kind: 'hs256', secret: CUSTOMER_SECRET }),
    apiRoutes: [],
    internalRoutes: internalRoutes([{ name: 'catalog', api: catalog, methods: CatalogMethods, access: CatalogAccess }], new ServiceCredential(SERVICE_SECRET, 'host')),
    readiness: async () => ({ ready: true }),
    version: 'test',
  });
  await app.listen({ port, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

/** A TCP server that accepts every connection and never answers: a host that hangs (SIGSTOP). */
async function hanger(): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP server that accepts and drops every connection, counting them: a host that is broken. */
async function dropper(): Promise<{ server: Server; url: string; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => count };
}

const errorOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as ModuleError);

describe('a module in another process, through RemoteModule', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
  });

  const client = (url: string | readonly string[], options: Partial<ConstructorParameters<typeof RemoteModule>[0]> = {}) => {
    const remote = new RemoteModule({ module: 'catalog', url, credential: new ServiceCredential(SERVICE_SECRET, 'caller'), logger: memoryLogger().logger, ...options });
    cleanup.push(() => remote.close());
    return remoteApi<CatalogApi>(remote, CatalogMethods);
  };

  it('answers as the local implementation does, errors included (same code, status, detail, extensions)', async () => {
    const local = new FakeCatalog(ITEMS);
    const { app, url } = await host(new FakeCatalog(ITEMS));
    cleanup.push(() => app.close());
    const remote = client(url);

    expect(await remote.getItem('i2')).toEqual(await local.getItem('i2'));
    expect(await remote.listItems(0)).toEqual(await local.listItems(0));
    const [remoteError, localError] = [await errorOf(remote.getItem('nope')), await errorOf(local.getItem('nope'))];
    expect(isModuleError(remoteError)).toBe(true);
    expect({ ...remoteError, message: remoteError!.message }).toEqual({ ...localError, message: localError!.message });
  });

  it('accepts only the service credential: a customer token, even a valid one, gets 401', async () => {
    const { app, url } = await host(new FakeCatalog(ITEMS));
    cleanup.push(() => app.close());
    const customer = await signToken(CUSTOMER_SECRET, { sub: 'c0000000-0000-4000-8000-000000000001', roles: ['admin'] });
    const forged = await new ServiceCredential(CUSTOMER_SECRET, 'intruder').token();
    for (const token of [customer, forged, '']) {
      const res = await fetch(`${url}/internal/catalog/getItem`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"args":["i1"]}' });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('unauthorized');
    }
    const wrongSecret = new RemoteModule({ module: 'catalog', url, credential: new ServiceCredential(CUSTOMER_SECRET, 'x'), logger: memoryLogger().logger });
    cleanup.push(() => wrongSecret.close());
    expect((await errorOf(remoteApi<CatalogApi>(wrongSecret, CatalogMethods).getItem('i1')))?.code).toBe('unauthorized');
  });

  it('reaches only methods the contract table names', async () => {
    const { app, url } = await host(new FakeCatalog(ITEMS));
    cleanup.push(() => app.close());
    const token = await new ServiceCredential(SERVICE_SECRET, 'caller').token();
    for (const path of ['catalog/constructor', 'catalog/toString', 'orders/getItem']) {
      const res = await fetch(`${url}/internal/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"args":[]}' });
      expect(((await res.json()) as { code: string }).code).toBe('module_not_hosted');
    }
  });

  it('carries the trace across: the remote call runs in the same trace, with the same request id', async () => {
    const traced = new TracedCatalog(ITEMS);
    const { app, url } = await host(traced);
    cleanup.push(() => app.close());
    const traceId = 'ab'.repeat(16);
    // Untraced (no exporter set), the caller's span passes through as the host's parent: same trace, same span id.
    await runInContext(eventContext({ id: 'req-42', traceparent: `00-${traceId}-${'cd'.repeat(8)}-01` }), () => client(url).getItem('i1'));
    expect(traced.contexts[0]).toEqual({ requestId: 'req-42', trace: { trace_id: traceId, span_id: 'cd'.repeat(8) } });
  });

  it('retries reads over a broken trip, never writes', async () => {
    const broken = await dropper();
    cleanup.push(() => new Promise((resolve) => broken.server.close(resolve)));
    const remote = client(broken.url, { attempts: 3, breakAfter: 100 });

    expect((await errorOf(remote.getItem('i1')))?.code).toBe('module_unavailable');
    expect(broken.connections()).toBe(3);
    expect((await errorOf(remote.renameItem('i1', 'x')))?.code).toBe('module_unavailable');
    expect(broken.connections()).toBe(4);
  });

  it('opens the circuit on a host that hangs, not only on one that refuses', async () => {
    const hung = await hanger();
    cleanup.push(hung.close);
    const remote = client(hung.url, { attempts: 1, breakAfter: 3, timeoutMs: 100, halfOpenAfterMs: 60_000 });
    for (let i = 0; i < 3; i += 1) expect((await errorOf(remote.getItem('i1')))?.detail).toMatch(/did not answer in time/);
    expect((await errorOf(remote.getItem('i1')))?.detail).toMatch(/circuit is open/);
  });

  it('spreads calls over several addresses in turn (comma-separated, as <MODULE>_URL gives them)', async () => {
    const [one, two] = [new FakeCatalog(ITEMS), new FakeCatalog(ITEMS)];
    const first = await host(one);
    const second = await host(two);
    cleanup.push(() => first.app.close(), () => second.app.close());
    const remote = client(`${first.url},${second.url}`);
    for (let i = 0; i < 6; i += 1) await remote.getItem('i1');
    expect([one.calls.length, two.calls.length]).toEqual([3, 3]);
  });

  it('retries a safe call on the next address, never a write; a dead address only opens its own circuit', async () => {
    const catalog = new FakeCatalog(ITEMS);
    const good = await host(catalog);
    const broken = await dropper();
    cleanup.push(() => good.app.close(), () => new Promise((resolve) => broken.server.close(resolve)));
    const remote = client([broken.url, good.url], { breakAfter: 3, halfOpenAfterMs: 60_000 });

    // A read and an idempotent write, each first sent to the dead address, are answered by the live one.
    expect(await remote.getItem('i1')).toMatchObject({ id: 'i1' });
    expect(await remote.archiveItem('i2')).toMatchObject({ tags: expect.arrayContaining(['archived']) });
    expect(broken.connections()).toBe(2);
    // A write is never repeated: the one whose turn is the dead address fails, after one try.
    expect((await errorOf(remote.renameItem('i1', 'lost')))?.code).toBe('module_unavailable');
    expect(broken.connections()).toBe(3);
    // Three failures opened the dead address's circuit, and only its: everything now goes to the live one.
    for (let i = 0; i < 4; i += 1) expect(await remote.renameItem('i1', `n${i}`)).toMatchObject({ name: `n${i}` });
    expect(broken.connections()).toBe(3);
    expect(catalog.calls.filter((call) => call.method === 'renameItem')).toHaveLength(4);
  });

  it('fails fast only once every address is open', async () => {
    const [a, b] = [await dropper(), await dropper()];
    cleanup.push(() => new Promise((resolve) => a.server.close(resolve)), () => new Promise((resolve) => b.server.close(resolve)));
    const remote = client([a.url, b.url], { attempts: 1, breakAfter: 1, halfOpenAfterMs: 60_000 });
    expect((await errorOf(remote.getItem('i1')))?.detail).toMatch(/no answer/);
    expect((await errorOf(remote.getItem('i1')))?.detail).toMatch(/no answer/);
    expect((await errorOf(remote.getItem('i1')))?.detail).toMatch(/circuit is open/);
    expect([a.connections(), b.connections()]).toEqual([1, 1]);
  });

  it('fails fast with module_unavailable while the host is down, and recovers by itself when it returns', async () => {
    const broken = await dropper();
    const port = Number(new URL(broken.url).port);
    const remote = client(broken.url, { attempts: 1, breakAfter: 3, halfOpenAfterMs: 300 });
    for (let i = 0; i < 3; i += 1) expect((await errorOf(remote.getItem('i1')))?.code).toBe('module_unavailable');
    expect(broken.connections()).toBe(3);

    // Open: the next calls fail at once, without touching the network.
    const fast = await errorOf(remote.getItem('i1'));
    expect(fast?.code).toBe('module_unavailable');
    expect(fast?.detail).toMatch(/circuit is open/);
    expect(broken.connections()).toBe(3);

    // The host comes back on the same address; after the half-open delay a probe closes the circuit.
    await new Promise((resolve) => broken.server.close(resolve));
    const { app } = await host(new FakeCatalog(ITEMS), port);
    cleanup.push(() => app.close());
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await remote.getItem('i1')).toMatchObject({ id: 'i1' });
    expect(await remote.getItem('i2')).toMatchObject({ id: 'i2' });
  });
});
