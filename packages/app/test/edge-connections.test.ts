import { execFile, execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { ADMIN_ID, TEST_SECRET } from './harness.ts';
import { startServer, type ServerProcess } from './process.ts';

/**
 * No request is dropped at the edge: a body over the limit gets its 413 problem+json whether the
 * client waits for `100 Continue` (curl) or not (Node's fetch), and a long mix of valid and
 * invalid requests over a few keep-alive connections sees no connection error and no 5xx.
 */

const run = promisify(execFile);
const CURL = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Twice the 1 MB limit, well within what the server reads and drops before answering (8 MB). */
const OVERSIZED = JSON.stringify({ items: [], idempotency_key: 'too-big', padding: 'x'.repeat(2 * 1024 * 1024) });

describe('connections at the edge', () => {
  // The server in a process of its own, as deployed: in the test's process, client and server
  // would share one event loop, and the races at stake (a reset under a client still writing)
  // hardly ever show.
  let database: TestDatabase;
  let server: ServerProcess;
  let t: { url: string };
  let customerToken: string;
  let productId: string;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
    server = await startServer({ DATABASE_URL: database.url, AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'test' });
    t = { url: server.url };
    customerToken = await signToken(TEST_SECRET, { sub: randomUUID(), roles: [] });
    const adminToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
    const product = await fetch(`${t.url}/api/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sku: `EDGE-${randomUUID().slice(0, 8)}`, name: 'Edge', price_cents: 100, stock_quantity: 1_000_000 }),
    });
    expect(product.status).toBe(201);
    productId = ((await product.json()) as { id: string }).id;
    dir = await mkdtemp(path.join(tmpdir(), 'shop-edge-'));
  });
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("answers 100 of 100 oversized bodies sent with Node's fetch with a 413 problem+json, then closes", async () => {
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      let outcome: string;
      try {
        const response = await fetch(`${t.url}/api/orders`, {
          method: 'POST',
          headers: { authorization: `Bearer ${customerToken}`, 'content-type': 'application/json' },
          body: OVERSIZED,
        });
        const body = (await response.json()) as { code?: string };
        outcome = `${response.status} ${response.headers.get('content-type')?.split(';')[0]} ${body.code} connection=${response.headers.get('connection')}`;
      } catch (error) {
        outcome = `error ${(error as { cause?: { code?: string } }).cause?.code ?? String(error)}`;
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    expect(outcomes).toEqual({ '413 application/problem+json payload_too_large connection=close': 100 });
  });

  it('answers 100 of 100 oversized bodies sent with curl (which waits for 100 Continue) with a 413 problem+json', async (context) => {
    if (!CURL) {
      console.warn('\n*** SKIPPED: curl is not installed; the curl half of the oversized-body check did not run ***\n');
      context.skip('curl is not installed');
    }
    const file = path.join(dir, 'oversized.json');
    await writeFile(file, OVERSIZED);
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const args = ['-sS', '-X', 'POST', `${t.url}/api/orders`, '-H', `Authorization: Bearer ${customerToken}`, '-H', 'Content-Type: application/json'];
      args.push('--data-binary', `@${file}`, '-w', '\n%{http_code} %{content_type}');
      let outcome: string;
      try {
        const { stdout } = await run('curl', args, { timeout: 20_000 });
        const [body = '', status = ''] = stdout.split('\n');
        outcome = `${status.split(';')[0]} ${(JSON.parse(body) as { code?: string }).code}`;
      } catch (error) {
        outcome = `error ${String((error as { stderr?: string }).stderr ?? error).trim()}`;
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    expect(outcomes).toEqual({ '413 application/problem+json payload_too_large': 100 });
  });

  it('serves 10,000 mixed valid and invalid requests over keep-alive connections: no connection error, no 5xx, every status as expected', async () => {
    const auth = { authorization: `Bearer ${customerToken}` };
    const json = { 'content-type': 'application/json' };
    const order = (extra: Record<string, unknown> = {}) => JSON.stringify({ items: [{ product_id: productId, quantity: 1 }], idempotency_key: `edge-${randomUUID()}`, ...extra });
    const justOver = JSON.stringify({ padding: 'x'.repeat(1024 * 1024 + 10) });
    interface Shape {
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
      path: string;
      headers?: Record<string, string>;
      body?: string;
    }
    /** [name, weight, request, the statuses that keep the contract] */
    const kinds: [string, number, () => Shape, number[]][] = [
      ['GET products', 10, () => ({ method: 'GET', path: '/api/products', headers: auth }), [200]],
      ['GET product', 10, () => ({ method: 'GET', path: `/api/products/${productId}`, headers: auth }), [200]],
      ['GET health', 4, () => ({ method: 'GET', path: '/health' }), [200]],
      ['POST order', 3, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, ...json }, body: order() }), [201]],
      ['malformed JSON', 6, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, ...json }, body: '{"items": [' }), [400]],
      ['wrong type', 6, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, ...json }, body: order({ items: 'three' }) }), [400]],
      ['unknown field', 6, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, ...json }, body: order({ colour: 'red' }) }), [400]],
      ['keys disagree', 2, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, ...json, 'idempotency-key': 'other' }, body: order() }), [400]],
      ['unknown route', 6, () => ({ method: 'GET', path: `/api/nowhere/${randomUUID()}`, headers: auth }), [404]],
      ['unknown route with a body', 4, () => ({ method: 'POST', path: '/nowhere', headers: json, body: '{"a":1}' }), [404]],
      ['wrong method', 5, () => ({ method: 'PATCH', path: '/api/products', headers: { ...auth, ...json }, body: '{}' }), [404, 405]],
      ['DELETE a collection', 3, () => ({ method: 'DELETE', path: '/api/orders', headers: auth }), [404, 405]],
      ['no token', 6, () => ({ method: 'POST', path: '/api/orders', headers: json, body: order() }), [401]],
      ['bad token', 3, () => ({ method: 'GET', path: '/api/products', headers: { authorization: 'Bearer nope' } }), [401]],
      ['oversized', 2, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, ...json }, body: justOver }), [413]],
      ['oversized, 2 MB', 1, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, ...json }, body: OVERSIZED }), [413]],
      ['oversized without a token', 1, () => ({ method: 'POST', path: '/api/orders', headers: json, body: justOver }), [401, 413]],
      ['text/plain', 4, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, 'content-type': 'text/plain' }, body: order() }), [400, 415]],
      ['odd content type', 4, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, 'content-type': 'application/x-shop; q=1' }, body: 'a=b' }), [415]],
      ['empty JSON body', 5, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, ...json }, body: '' }), [400]],
      ['no body at all', 3, () => ({ method: 'POST', path: '/api/orders', headers: auth }), [400, 415]],
      ['GET with a body', 5, () => ({ method: 'GET', path: '/api/products', headers: { ...auth, ...json }, body: '{"page":1}' }), [200, 400]],
      ['POST with an empty JSON object', 2, () => ({ method: 'POST', path: '/api/orders', headers: { ...auth, ...json }, body: '{}' }), [400]],
    ];
    const deck = kinds.flatMap((kind) => Array.from({ length: kind[1] }, () => kind));

    const TOTAL = 10_000;
    // Two clients, two connections each: Node's fetch (its global keep-alive dispatcher, idle
    // connections kept as long as the server's Keep-Alive hint allows) and node:http with an agent
    // that keeps an idle connection for 1 s only. The idle gaps below sit just under and just over
    // that second, so connections are now reused after a pause, now dropped and opened again.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2, timeout: 1_000 });
    const clients: ((shape: Shape) => Promise<{ status: number; type: string; text: string }>)[] = [
      async (shape) => {
        const response = await fetch(t.url + shape.path, { method: shape.method, headers: shape.headers ?? {}, body: shape.body ?? null });
        return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
      },
      (shape) =>
        new Promise((resolve, reject) => {
          // node:http sends the body of a GET without Content-Length unless told: say it (see the test below).
          const headers = { ...shape.headers, ...(shape.body !== undefined ? { 'content-length': String(Buffer.byteLength(shape.body)) } : {}) };
          const request = http.request(t.url + shape.path, { method: shape.method, headers, agent }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'] ?? '', text: Buffer.concat(chunks).toString() }));
            response.on('error', reject);
          });
          request.on('error', reject);
          request.end(shape.body);
        }),
    ];
    const workers = [0, 0, 1, 1];
    const gapsEvery = 1_000;
    const gapMs = (n: number) => ((n / gapsEvery) % 2 === 0 ? 1_100 : 900);
    const unexpected: string[] = [];
    const errors: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    let next = 0;
    const started = Date.now();
    try {
      await Promise.all(
        workers.map(async (client) => {
          while (next < TOTAL) {
            const n = next++;
            const [name, , make, expected] = deck[n % deck.length]!;
            const shape = make();
            // fetch refuses a GET with a body: node:http sends those.
            const via = shape.method === 'GET' && shape.body !== undefined ? 1 : client;
            if (n > 0 && n % gapsEvery === 0) await new Promise((resolve) => setTimeout(resolve, gapMs(n)));
            try {
              const { status, type, text } = await clients[via]!(shape);
              statuses[`${name} ${status}`] = (statuses[`${name} ${status}`] ?? 0) + 1;
              if (!expected.includes(status)) unexpected.push(`${name}: ${status} ${text.slice(0, 200)}`);
              else if (status >= 400 && !type.startsWith('application/problem+json')) unexpected.push(`${name}: ${status} as ${type}`);
            } catch (error) {
              const code = (error as { cause?: { code?: string }; code?: string }).cause?.code ?? (error as { code?: string }).code ?? String(error);
              const key = `${name} (${via === 0 ? 'fetch' : 'node:http'}): ${code}`;
              errors[key] = (errors[key] ?? 0) + 1;
            }
          }
        }),
      );
    } finally {
      agent.destroy();
    }
    const seconds = (Date.now() - started) / 1000;
    console.info(`edge mix: ${TOTAL} requests over 4 keep-alive connections in ${seconds.toFixed(1)} s`);
    expect(errors).toEqual({});
    expect(unexpected.slice(0, 20)).toEqual([]);
    expect(Object.values(statuses).reduce((sum, count) => sum + count, 0)).toBe(TOTAL);
    expect(Object.keys(statuses).filter((key) => / 5\d\d$/.test(key))).toEqual([]);
  }, 120_000);

  /** Sends raw bytes on one connection; resolves with what came back once the server closed it (or after 3 s). */
  const exchange = (bytes: string) =>
    new Promise<{ text: string; closed: 'end' | 'reset' | 'open' }>((resolve) => {
      const socket = net.connect(Number(new URL(t.url).port), '127.0.0.1');
      let text = '';
      const timer = setTimeout(() => finish('open'), 3_000);
      const finish = (closed: 'end' | 'reset' | 'open') => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ text, closed });
      };
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => finish('end'));
      socket.on('error', () => finish('reset'));
      socket.write(bytes);
    });

  it('answers a GET whose body went without Content-Length (the next request, by HTTP framing, and not a valid one), then closes cleanly', async () => {
    const { text, closed } = await exchange('GET /health HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n\r\n{"page":1}');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1); // no second answer read as this one's
    expect(closed).toBe('end');
  });

  it('answers bytes that are not HTTP with a 400 problem+json and Connection: close, not a bare reset', async () => {
    const { text, closed } = await exchange('NOT HTTP AT ALL\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toMatch(/\r\nConnection: close\r\n/);
    expect(text).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, code: 'invalid_input' });
    expect(closed).toBe('end');
  });
});
