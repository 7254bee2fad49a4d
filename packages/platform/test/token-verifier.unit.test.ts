import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from '@shop/platform';

const SECRET = 'unit-secret-unit-secret-unit-secret-0123456789';
const SUB = 'a0000000-0000-4000-8000-0000000000aa';

async function token(claims: { iss?: string; aud?: string; exp?: number } = {}, alg = 'HS256', secret = SECRET): Promise<string> {
  const jwt = new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg }).setSubject(SUB).setIssuedAt().setExpirationTime(claims.exp ?? '1h');
  if (claims.iss) jwt.setIssuer(claims.iss);
  if (claims.aud) jwt.setAudience(claims.aud);
  return jwt.sign(new TextEncoder().encode(secret));
}

const detailOf = (promise: Promise<unknown>) => promise.then(() => 'accepted', (error: { detail?: string; message: string }) => error.detail ?? error.message);

describe('TokenVerifier, shared secret (HS256)', () => {
  const plain = new TokenVerifier({ kind: 'hs256', secret: SECRET });
  const strict = new TokenVerifier({ kind: 'hs256', secret: SECRET, issuer: 'https://id.example', audience: 'shop' });

  it('accepts a good token and reads its subject and roles', async () => {
    expect(await plain.verify(`Bearer ${await token()}`)).toEqual({ sub: SUB, roles: ['admin'], isAdmin: true });
  });

  it('says when a token has expired, and refuses the wrong secret or another algorithm', async () => {
    expect(await detailOf(plain.verify(`Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 60 })}`))).toBe('the token has expired');
    expect(await detailOf(plain.verify(`Bearer ${await token({}, 'HS256', `${SECRET}x`)}`))).toBe('the token is not valid');
    expect(await detailOf(plain.verify(`Bearer ${await token({}, 'HS512')}`))).toBe('the token is not valid');
  });

  it('checks issuer and audience when they are set', async () => {
    expect(await detailOf(strict.verify(`Bearer ${await token({ iss: 'https://id.example', aud: 'shop' })}`))).toBe('accepted');
    expect(await detailOf(strict.verify(`Bearer ${await token({ iss: 'https://evil.example', aud: 'shop' })}`))).toBe('the token is not valid');
    expect(await detailOf(strict.verify(`Bearer ${await token({ iss: 'https://id.example', aud: 'other' })}`))).toBe('the token is not valid');
    expect(await detailOf(strict.verify(`Bearer ${await token()}`))).toBe('the token is not valid');
  });
});
