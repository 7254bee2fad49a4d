import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { unauthorized } from '@shop/platform';
import { callingModule } from './calling-module.ts';

const AUDIENCE = 'shop-internal';
const LIFETIME_S = 300;

/**
 * The credential processes of one deployment show each other on internal calls: a short-lived
 * HS256 token signed with the shared `SERVICE_SECRET`, for the `shop-internal` audience, whose
 * subject names the calling module (`service:payments`, or `service:edge` for a route forwarded
 * on a user's behalf). The callee checks that name against its contract's access table. Customer
 * tokens are signed with another secret (or by an identity provider) and never carry this
 * audience, so a customer can't call a service-only operation, even with a valid token.
 */
export class ServiceCredential {
  readonly #key: Uint8Array;
  readonly #fallback: string | undefined;
  readonly #cached = new Map<string, { token: string; renewAt: number }>();

  /**
   * `fallback` is the caller named when no hand-over names one (`callingModule()`); without
   * it, such a call fails rather than going out unnamed.
   */
  constructor(secret: string, fallback?: string) {
    this.#key = new TextEncoder().encode(secret);
    this.#fallback = fallback;
  }

  /** A bearer token for a call made by `caller` (by default, the module calling now), renewed well before it expires. */
  async token(caller = callingModule() ?? this.#fallback): Promise<string> {
    if (caller === undefined) throw new Error('an internal call must name its calling module: hand the interface over with handedTo(caller, api)');
    const now = Date.now();
    const cached = this.#cached.get(caller);
    if (cached && now < cached.renewAt) return cached.token;
    const token = await new SignJWT({ roles: ['service'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(`service:${caller}`)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${LIFETIME_S}s`)
      .sign(this.#key);
    this.#cached.set(caller, { token, renewAt: now + (LIFETIME_S / 2) * 1000 });
    return token;
  }

  /** The calling module's name (not yet checked against any contract), or a 401 problem. */
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
