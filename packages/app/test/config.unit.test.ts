import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@shop/platform';
import { loadConfig } from '../src/config.ts';

const SECRET = 'x'.repeat(32);

/** Runs loadConfig on `env`, expecting a ConfigError, and returns its message. */
function configErrorOf(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('runs with an empty environment (development)', () => {
    // An explicit empty env, so the test never depends on the shell it runs in.
    expect(loadConfig({})).toEqual({
      production: false,
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: path.resolve('./.data'),
      auth: { kind: 'hs256-dev' },
      logLevel: 'info',
      modules: ['orders', 'inventory'],
      shutdownTimeoutMs: 10_000,
      dbPoolSize: 20,
      outbox: { maxAttempts: 10, sweepIntervalMs: 1_000, retryBaseMs: 500 },
    });
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ PORT: '  ', LOG_LEVEL: '' }).port).toBe(8080);
  });

  it('reads what is set', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: '3000',
      LOG_LEVEL: 'warn',
      DATABASE_URL: 'postgres://shop:pw@db:5432/shop',
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWT_ISSUER: 'iss',
      MODULES: 'inventory, orders',
    });
    expect(config).toMatchObject({
      production: true,
      port: 3000,
      logLevel: 'warn',
      databaseUrl: 'postgres://shop:pw@db:5432/shop',
      auth: { kind: 'hs256', secret: SECRET, issuer: 'iss' },
      modules: ['inventory', 'orders'],
    });
  });

  it('accepts a JWKS URL instead of a secret, even in production', () => {
    const config = loadConfig({ NODE_ENV: 'production', AUTH_JWKS_URL: 'https://id.example/jwks.json' });
    expect(config.auth).toEqual({ kind: 'jwks', url: new URL('https://id.example/jwks.json') });
  });
});

describe('loadConfig refuses a bad environment, naming the variable', () => {
  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '65536' }],
    ['PORT', { PORT: '80.5' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://db/shop' }],
    ['AUTH_JWT_SECRET', { AUTH_JWT_SECRET: 'x'.repeat(31) }],
    ['AUTH_JWKS_URL', { AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: 'https://id.example/jwks.json' }],
    ['AUTH_JWT_SECRET', { NODE_ENV: 'production' }],
    ['MODULES', { MODULES: 'orders,inventory,payments' }],
    ['MODULES', { MODULES: 'orders' }],
    ['DB_POOL_SIZE', { DB_POOL_SIZE: '1' }],
  ] as const)('%s in %j', (variable, env) => {
    expect(configErrorOf(env)).toContain(variable);
  });

  it('names the unknown module', () => {
    expect(configErrorOf({ MODULES: 'orders,inventory,payments' })).toContain('"payments"');
  });

  it('names the module hosted nowhere', () => {
    expect(configErrorOf({ MODULES: 'orders' })).toMatch(/leaves inventory hosted nowhere/);
  });
});

describe('a bad DATABASE_URL never echoes its password', () => {
  it.each([
    ['wrong protocol', 'mysql://shop:hunter2secret@db:3306/shop'],
    ['unparseable port', 'postgres://shop:hunter2secret@db:notaport/shop'],
    ['password with a raw @', 'mysql://shop:hunter2@secret@db:3306/shop'],
  ])('%s', (_case, url) => {
    const message = configErrorOf({ DATABASE_URL: url });
    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('secret');
    // Still useful: the user and host are shown.
    expect(message).toContain('shop:***@');
  });
});
