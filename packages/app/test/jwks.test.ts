import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@shop/platform';
import { TEST_SECRET, startTestApp, type TestApp } from './harness.ts';

/** AUTH_JWKS_URL: tokens of an external identity provider, verified against its published keys. */
describe('authentication with AUTH_JWKS_URL', () => {
  let idp: Server;
  let t: TestApp;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

  beforeAll(async () => {
    const keys = await generateKeyPair('RS256', { extractable: true });
    privateKey = keys.privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    idp = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const address = idp.address() as { port: number };
    t = await startTestApp({ AUTH_JWT_SECRET: '', AUTH_JWKS_URL: `http://127.0.0.1:${address.port}/.well-known/jwks.json` });
  });
  afterAll(async () => {
    await t.stop();
    idp.close();
  });

  const rs256 = (claims: Record<string, unknown>, sub: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(privateKey);

  it("accepts a token signed with the provider's key, roles included", async () => {
    const admin = await rs256({ roles: ['admin'] }, randomUUID());
    const created = await t.call('POST', '/api/products', { token: admin, body: { sku: 'JWKS-1', name: 'Key', price_cents: 1, stock_quantity: 1 } });
    expect(created.status).toBe(201);
    const customer = await rs256({}, randomUUID());
    expect((await t.call('GET', `/api/products/${created.body.id}`, { token: customer })).status).toBe(200);
  });

  it('refuses an HS256 token, however well signed', async () => {
    const hs = await signToken(TEST_SECRET, { sub: randomUUID(), roles: ['admin'] });
    const answer = await t.call('GET', '/api/products', { token: hs });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('unauthorized');
  });

  it('refuses a token whose sub is not a customer UUID', async () => {
    const answer = await t.call('GET', '/api/products', { token: await rs256({}, 'alice') });
    expect(answer.status).toBe(401);
  });
});
