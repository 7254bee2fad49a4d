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
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import type { Pool } from 'undici';
import type { MethodKind } from '@shop/contract-kit';
import type { Logger } from 'pino';
import { moduleErrorFromProblem, moduleUnavailable, isTransportFailure, TransportFailure } from './remote-errors.ts';
import { propagationHeaders } from '@shop/platform/internals';
import { isTracing, traceModuleCall } from '@shop/platform/internals';
import type { Telemetry } from '@shop/platform';
import type { ServiceCredential } from './service-auth.ts';

export interface RemoteModuleOptions {
  /** The module's name, as its host serves it under `/internal/<module>`. */
  readonly module: string;
  /**
   * Where the module's host processes listen, e.g. `http://orders:8080`: one address, or several
   * (a list, or comma-separated) that calls are spread over in turn.
   */
  readonly url: string | readonly string[];
  readonly credential: ServiceCredential;
  readonly logger: Logger;
  /** Per attempt; default 5 s. */
  readonly timeoutMs?: number;
  /** Attempts for calls safe to repeat (reads, idempotent writes), each on the next address; default 3, or one per address if more. */
  readonly attempts?: number;
  /** Consecutive transport failures of one address that open its circuit; default 5. */
  readonly breakAfter?: number;
  /** How long an open circuit fails fast before letting one call probe; default 2 s. */
  readonly halfOpenAfterMs?: number;
  /** Connections kept alive to each address; default 32. */
  readonly connections?: number;
  /** Where call latency (side `remote`) and each address's circuit state are reported. */
  readonly telemetry?: Telemetry;
}

/** One address of the module: its connection pool (opened on first use) and its own circuit. */
interface Address {
  readonly origin: string;
  pool: Promise<Pool> | undefined;
  readonly breaker: CircuitBreakerPolicy;
  /** The circuit, then the attempt's timeout. */
  readonly policy: IPolicy;
  /** When the circuit last opened: the address is skipped until it is due for a probe. */
  openedAt: number;
}

/**
 * One module in another process, reached over HTTP: a keep-alive connection pool (undici) per
 * address, calls spread over the addresses in turn, a timeout on every attempt, retries with
 * backoff for calls safe to repeat only (each on the next address), and a circuit breaker per
 * address that fails fast with `module_unavailable` while the host is down and closes again by
 * itself once a probe succeeds. Remote module errors come back as the same `ModuleError`s.
 *
 * The circuit is per address, not per module: one replica down must not turn its healthy
 * siblings away. While an address's circuit is open, calls skip it (until it is due for a probe);
 * only when every address is open does a call fail fast.
 */
export class RemoteModule {
  readonly module: string;
  readonly #addresses: readonly Address[];
  /** Round-robin position: the address the next call starts at. */
  #turn = 0;
  readonly #halfOpenAfterMs: number;
  readonly #connections: number;
  readonly #credential: ServiceCredential;
  readonly #logger: Logger;
  readonly #telemetry: Telemetry | undefined;
  readonly #retries: IPolicy;

  constructor(options: RemoteModuleOptions) {
    this.module = options.module;
    const urls = typeof options.url === 'string' ? options.url.split(',').map((url) => url.trim()).filter(Boolean) : options.url;
    if (urls.length === 0) throw new Error(`RemoteModule ${options.module}: no address`);
    this.#connections = options.connections ?? 32;
    this.#halfOpenAfterMs = options.halfOpenAfterMs ?? 2_000;
    this.#credential = options.credential;
    this.#logger = options.logger.child({ remote_module: options.module });
    this.#telemetry = options.telemetry;
    const transport = handleWhen(isTransportFailure);
    // A host that hangs is as down as one that refuses: timeouts count against the circuit too
    // (but are not retried: a hung host would only multiply the caller's wait).
    const downOrHung = handleWhen((error) => isTransportFailure(error) || error instanceof TaskCancelledError);
    const perAttempt = timeout(options.timeoutMs ?? 5_000, TimeoutStrategy.Aggressive);
    this.#addresses = urls.map((url) => {
      const origin = new URL(url).origin;
      const breaker = circuitBreaker(downOrHung, { halfOpenAfter: this.#halfOpenAfterMs, breaker: new ConsecutiveBreaker(options.breakAfter ?? 5) });
      const address: Address = { origin, pool: undefined, breaker, policy: wrap(breaker, perAttempt), openedAt: 0 };
      breaker.onBreak(() => (address.openedAt = Date.now()));
      // By name (open, half-open, closed): CircuitState is a numeric enum, and "1" tells an operator nothing.
      const circuit = options.telemetry?.circuitState.labels(options.module, origin);
      circuit?.set(0);
      breaker.onStateChange((state) => {
        this.#logger.warn({ circuit: CIRCUIT_STATES[state] ?? String(state), address: origin }, `circuit to ${options.module} changed`);
        circuit?.set(CIRCUIT_LEVELS[state] ?? 2);
      });
      return address;
    });
    const attempts = options.attempts ?? Math.max(3, urls.length);
    // Retries wrap the breakers: an open circuit is not retried (BrokenCircuitError is no TransportFailure).
    this.#retries = retry(transport, { maxAttempts: attempts - 1, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }) });
  }

  /** Calls `method` on the remote module with `args`; resolves with its result or throws its error. */
  async call<T>(method: string, args: readonly unknown[], kind: MethodKind): Promise<T> {
    const started = performance.now();
    try {
      return await (isTracing() ? traceModuleCall(this.module, method, 'remote', () => this.#call<T>(method, args, kind)) : this.#call<T>(method, args, kind));
    } finally {
      this.#telemetry?.callDuration.observe({ module: this.module, method, side: 'remote' }, (performance.now() - started) / 1000);
    }
  }

  async #call<T>(method: string, args: readonly unknown[], kind: MethodKind): Promise<T> {
    // One attempt on the next address whose circuit lets calls through.
    const once = () => {
      const address = this.#next();
      return address.policy.execute(({ signal }) => this.#attempt(address, method, args, signal));
    };
    try {
      return (await (kind === 'write' ? once() : this.#retries.execute(once))) as T;
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw moduleUnavailable(this.module, 'its circuit is open after repeated failures; retry shortly');
      if (error instanceof TaskCancelledError) throw moduleUnavailable(this.module, 'it did not answer in time');
      if (isTransportFailure(error)) throw moduleUnavailable(this.module, (error as Error).message);
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#addresses.map(async (address) => (address.pool ? (await address.pool).close() : undefined)));
  }

  /**
   * The next address in turn, skipping those whose circuit is open and not yet due for a probe
   * (or probing now); when every one is, the next anyway: its circuit then fails the call fast.
   */
  #next(): Address {
    const count = this.#addresses.length;
    const start = this.#turn++ % count;
    const now = Date.now();
    for (let i = 0; i < count; i += 1) {
      const address = this.#addresses[(start + i) % count]!;
      const state = address.breaker.state;
      if (state === CircuitState.Closed) return address;
      if (state === CircuitState.Open && now - address.openedAt >= this.#halfOpenAfterMs) return address;
    }
    return this.#addresses[start]!;
  }

  /** Opened on the first call: undici costs ~75 ms of start to a process that may never call out. */
  #poolOf(address: Address): Promise<Pool> {
    address.pool ??= import('undici').then(({ Pool }) => new Pool(address.origin, { connections: this.#connections, keepAliveTimeout: 30_000 }));
    return address.pool;
  }

  async #attempt(address: Address, method: string, args: readonly unknown[], signal: AbortSignal): Promise<unknown> {
    let response;
    try {
      response = await (await this.#poolOf(address)).request({
        method: 'POST',
        path: `/internal/${this.module}/${method}`,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await this.#credential.token()}`,
          // Traced, the HTTP client span undici's instrumentation makes puts the trace (and the request id) on the wire.
          ...(isTracing() ? {} : propagationHeaders()),
        },
        body: JSON.stringify({ args }),
        signal,
      });
    } catch (error) {
      throw new TransportFailure(`no answer from ${this.module} (${(error as Error).message})`, { cause: error });
    }
    const text = await response.body.text();
    const body = parse(text);
    if (response.statusCode === 200 && typeof body === 'object' && body !== null) return (body as { result?: unknown }).result;
    const error = moduleErrorFromProblem(response.statusCode, body);
    // 502/503/504 from the host itself, or anything unintelligible: the trip failed, not the call.
    if (!error || (response.statusCode >= 502 && response.statusCode <= 504 && error.code !== 'module_unavailable')) {
      throw new TransportFailure(`${this.module} answered ${response.statusCode}${error ? ` (${error.code})` : ''}`);
    }
    throw error;
  }
}

/** As `remote_circuit_state` reports them: the higher, the less traffic gets through. */
const CIRCUIT_LEVELS: Record<number, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};

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
