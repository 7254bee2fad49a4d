import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { unauthorized } from '../errors.ts';

const AUDIENCE = 'shop-internal';
const LIFETIME_S = 300;

/**
 * The credential processes of one deployment show each other on internal calls: a short-lived
 * HS256 token signed with the shared `SERVICE_SECRET`, for the `shop-internal` audience. Customer
 * tokens are signed with another secret (or by an identity provider) and never carry this
 * audience, so a customer can't call a service-only operation, even with a valid token.
 */
export class ServiceCredential {
  readonly #key: Uint8Array;
  readonly #caller: string;
  #cached: { token: string; renewAt: number } | undefined;

  /** `caller` names this process in the tokens it signs (e.g. the modules it hosts). */
  constructor(secret: string, caller: string) {
    this.#key = new TextEncoder().encode(secret);
    this.#caller = caller;
  }

  /** A bearer token for outgoing calls, renewed well before it expires. */
  async token(): Promise<string> {
    const now = Date.now();
    if (this.#cached && now < this.#cached.renewAt) return this.#cached.token;
    const token = await new SignJWT({ roles: ['service'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(`service:${this.#caller}`)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${LIFETIME_S}s`)
      .sign(this.#key);
    this.#cached = { token, renewAt: now + (LIFETIME_S / 2) * 1000 };
    return token;
  }

  /** The calling service's name, or a 401 problem. */
  async verify(authorization: string | undefined): Promise<string> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw unauthorized('internal calls need a service credential (Authorization: Bearer <service token>)');
    try {
      const { payload } = await jwtVerify(match[1]!, this.#key, { algorithms: ['HS256'], audience: AUDIENCE });
      if (typeof payload.sub !== 'string' || !payload.sub.startsWith('service:')) throw new Error('not a service token');
      return payload.sub.slice('service:'.length);
    } catch (error) {
      throw unauthorized(error instanceof joseErrors.JWTExpired ? 'the service token has expired' : 'not a valid service credential');
    }
  }
}
