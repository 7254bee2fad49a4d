import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from 'cockatiel';
import type { Pool } from 'undici';
import type { MethodKind } from '@shop/contract-kit';
import type { Logger } from 'pino';
import { moduleErrorFromProblem, moduleUnavailable, isTransportFailure, TransportFailure } from './remote-errors.ts';
import { propagationHeaders } from './request-context.ts';
import type { ServiceCredential } from './service-auth.ts';

export interface RemoteModuleOptions {
  /** The module's name, as its host serves it under `/internal/<module>`. */
  readonly module: string;
  /** Where the module's host process listens, e.g. `http://orders:8080`. */
  readonly url: string;
  readonly credential: ServiceCredential;
  readonly logger: Logger;
  /** Per attempt; default 5 s. */
  readonly timeoutMs?: number;
  /** Attempts for calls safe to repeat (reads, idempotent writes); default 3. */
  readonly attempts?: number;
  /** Consecutive transport failures that open the circuit; default 5. */
  readonly breakAfter?: number;
  /** How long an open circuit fails fast before letting one call probe; default 2 s. */
  readonly halfOpenAfterMs?: number;
  /** Connections kept alive to the host; default 32. */
  readonly connections?: number;
}

/**
 * One module in another process, reached over HTTP: a keep-alive connection pool (undici),
 * a timeout on every attempt, retries with backoff for calls safe to repeat only, and a circuit
 * breaker that fails fast with `module_unavailable` while the host is down and closes again by
 * itself once a probe succeeds. Remote module errors come back as the same `ModuleError`s.
 */
export class RemoteModule {
  readonly module: string;
  readonly #origin: string;
  readonly #connections: number;
  /** Opened on the first call: undici costs ~75 ms of start to a process that may never call out. */
  #pool: Promise<Pool> | undefined;
  readonly #credential: ServiceCredential;
  readonly #logger: Logger;
  readonly #safe: IPolicy;
  readonly #unsafe: IPolicy;

  constructor(options: RemoteModuleOptions) {
    this.module = options.module;
    this.#origin = new URL(options.url).origin;
    this.#connections = options.connections ?? 32;
    this.#credential = options.credential;
    this.#logger = options.logger.child({ remote_module: options.module });
    const transport = handleWhen(isTransportFailure);
    // A host that hangs is as down as one that refuses: timeouts count against the circuit too
    // (but are not retried: a hung host would only multiply the caller's wait).
    const downOrHung = handleWhen((error) => isTransportFailure(error) || error instanceof TaskCancelledError);
    const breaker = circuitBreaker(downOrHung, { halfOpenAfter: options.halfOpenAfterMs ?? 2_000, breaker: new ConsecutiveBreaker(options.breakAfter ?? 5) });
    // By name (open, half-open, closed): CircuitState is a numeric enum, and "1" tells an operator nothing.
    breaker.onStateChange((state) => this.#logger.warn({ circuit: CIRCUIT_STATES[state] ?? String(state) }, `circuit to ${options.module} changed`));
    const perAttempt = timeout(options.timeoutMs ?? 5_000, TimeoutStrategy.Aggressive);
    const retries = retry(transport, { maxAttempts: (options.attempts ?? 3) - 1, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }) });
    // Retries wrap the breaker: an open circuit is not retried (BrokenCircuitError is no TransportFailure).
    this.#safe = wrap(retries, breaker, perAttempt);
    this.#unsafe = wrap(breaker, perAttempt);
  }

  /** Calls `method` on the remote module with `args`; resolves with its result or throws its error. */
  async call<T>(method: string, args: readonly unknown[], kind: MethodKind): Promise<T> {
    const policy = kind === 'write' ? this.#unsafe : this.#safe;
    try {
      return (await policy.execute(({ signal }) => this.#attempt(method, args, signal))) as T;
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw moduleUnavailable(this.module, 'its circuit is open after repeated failures; retry shortly');
      if (error instanceof TaskCancelledError) throw moduleUnavailable(this.module, 'it did not answer in time');
      if (isTransportFailure(error)) throw moduleUnavailable(this.module, (error as Error).message);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#pool) await (await this.#pool).close();
  }

  #poolOf(): Promise<Pool> {
    this.#pool ??= import('undici').then(({ Pool }) => new Pool(this.#origin, { connections: this.#connections, keepAliveTimeout: 30_000 }));
    return this.#pool;
  }

  async #attempt(method: string, args: readonly unknown[], signal: AbortSignal): Promise<unknown> {
    let response;
    try {
      response = await (await this.#poolOf()).request({
        method: 'POST',
        path: `/internal/${this.module}/${method}`,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await this.#credential.token()}`,
          ...propagationHeaders(),
        },
        body: JSON.stringify({ args }),
        signal,
      });
    } catch (error) {
      throw new TransportFailure(`no answer from ${this.module} (${(error as Error).message})`, { cause: error });
    }
    const text = await response.body.text();
    const body = parse(text);
    if (response.statusCode === 200 && typeof body === 'object' && body !== null && 'result' in body) return (body as { result: unknown }).result;
    const error = moduleErrorFromProblem(response.statusCode, body);
    // 502/503/504 from the host itself, or anything unintelligible: the trip failed, not the call.
    if (!error || (response.statusCode >= 502 && response.statusCode <= 504 && error.code !== 'module_unavailable')) {
      throw new TransportFailure(`${this.module} answered ${response.statusCode}${error ? ` (${error.code})` : ''}`);
    }
    throw error;
  }
}

const CIRCUIT_STATES: Record<number, string> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
