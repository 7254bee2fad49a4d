import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ModuleTraffic } from './module-traffic.ts';

/** The process's metrics, one registry per process (tests build several processes in one). */
export class Telemetry {
  readonly registry = new Registry();

  /** Calls between modules by caller, requests and CPU per module: the extraction report's evidence. */
  readonly traffic = new ModuleTraffic();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly moduleCalls = new Counter({
    name: 'module_calls_total',
    help: 'Calls through module interfaces, by module, method and outcome (ok or the error code)',
    labelNames: ['module', 'method', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Dark launch: each read also sent to a module's shadow copy, by how the two answers compared. */
  readonly shadowCalls = new Counter({
    name: 'module_shadow_calls_total',
    help: 'Reads also sent to a module shadow copy, by outcome: match, mismatch, shadow_error (no verdict) or dropped (too many in flight)',
    labelNames: ['module', 'method', 'outcome'] as const,
    registers: [this.registry],
  });

  /** The dark-launch alarm: the shadow copy answered differently from the local module. */
  readonly shadowMismatches = new Counter({
    name: 'module_shadow_mismatches_total',
    help: 'Reads whose shadow answer differed from the local one (after normalisation)',
    labelNames: ['module', 'method'] as const,
    registers: [this.registry],
  });

  /** Gradual switch: which side (the local module or its remote copy) served each call. */
  readonly callsBySide = new Counter({
    name: 'module_calls_by_side_total',
    help: 'Calls through a traffic split, by the side that served them: local or remote',
    labelNames: ['module', 'method', 'side'] as const,
    registers: [this.registry],
  });

  readonly outboxDelivered = new Counter({
    name: 'outbox_events_delivered_total',
    help: 'Events delivered from a module outbox to the bus',
    labelNames: ['module'] as const,
    registers: [this.registry],
  });

  readonly outboxRetries = new Counter({
    name: 'outbox_delivery_retries_total',
    help: 'Failed deliveries that will be retried',
    labelNames: ['module'] as const,
    registers: [this.registry],
  });

  readonly outboxPoisoned = new Counter({
    name: 'outbox_events_failed_total',
    help: 'Events marked failed after their last try (need an admin)',
    labelNames: ['module'] as const,
    registers: [this.registry],
  });

  /** Module calls by the side that served them: the local module, its remote copy over HTTP, or the shadow copy. */
  readonly callDuration = new Histogram({
    name: 'module_call_duration_seconds',
    help: 'Time a module call took, by module, method and side (local, remote, shadow)',
    labelNames: ['module', 'method', 'side'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  /** Each remote module address's circuit: 0 closed, 1 half-open, 2 open. */
  readonly circuitState = new Gauge({
    name: 'remote_circuit_state',
    help: 'Circuit breaker of each address of a module in another process: 0 closed, 1 half-open, 2 open',
    labelNames: ['module', 'address'] as const,
    registers: [this.registry],
  });

  /** How long after it happened an event was handled by a consumer here (outbox, bus, inbox). */
  readonly eventLag = new Histogram({
    name: 'event_handling_lag_seconds',
    help: 'Time from an event being published to a consumer of this process handling it, by consumer',
    labelNames: ['consumer'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  /** Calls a module makes to the outside world (payment provider, SMTP, Web Push), by outcome. */
  readonly externalCalls = new Counter({
    name: 'external_calls_total',
    help: 'Calls to services outside the system, by module, service, operation and outcome',
    labelNames: ['module', 'service', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly #backlogSources = new Map<string, () => Promise<Record<string, number>>>();
  readonly #oldestSources = new Map<string, () => Promise<number>>();
  readonly #pools = new Map<string, pg.Pool>();
  #consumers: (() => Promise<ReadonlyArray<{ consumer: string; pending: number; ack_pending: number; redelivered: number }>>) | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const sources = this.#backlogSources;
    new Gauge({
      name: 'outbox_events',
      help: 'Events in each module outbox, by status (read at scrape time)',
      labelNames: ['module', 'status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [module, count] of sources) {
          const counts = await count().catch(() => ({}));
          for (const [status, n] of Object.entries(counts)) this.set({ module, status }, n);
        }
      },
    });
    const oldest = this.#oldestSources;
    new Gauge({
      name: 'outbox_oldest_pending_age_seconds',
      help: "Age of each module outbox's oldest event still to deliver (0 when none; read at scrape time)",
      labelNames: ['module'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [module, age] of oldest) this.set({ module }, await age().catch(() => 0));
      },
    });
    const consumers = () => this.#consumers;
    new Gauge({
      name: 'nats_consumer_messages',
      help: 'Messages of each durable consumer as NATS counts them: pending (not yet delivered), ack_pending (delivered, not acknowledged), redelivered (so far)',
      labelNames: ['consumer', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const read = consumers();
        if (!read) return;
        for (const stats of await read().catch(() => [])) {
          this.set({ consumer: stats.consumer, state: 'pending' }, stats.pending);
          this.set({ consumer: stats.consumer, state: 'ack_pending' }, stats.ack_pending);
          this.set({ consumer: stats.consumer, state: 'redelivered' }, stats.redelivered);
        }
      },
    });
    const pools = this.#pools;
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database connections of each pool (owner, or a module role), by state: total, idle, waiting (clients queued for one), max',
      labelNames: ['pool', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, pool] of pools) {
          this.set({ pool: name, state: 'total' }, pool.totalCount);
          this.set({ pool: name, state: 'idle' }, pool.idleCount);
          this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
          this.set({ pool: name, state: 'max' }, pool.options.max ?? 10);
        }
      },
    });
  }

  /** Lets `/metrics` show a module's outbox backlog and the age of its oldest pending event, read only when scraped. */
  watchOutbox(module: string, count: () => Promise<Record<string, number>>, oldestPendingSeconds?: () => Promise<number>): void {
    this.#backlogSources.set(module, count);
    if (oldestPendingSeconds) this.#oldestSources.set(module, oldestPendingSeconds);
  }

  /** Lets `/metrics` show a connection pool's use (`owner`, or a module's own), read when scraped. */
  watchPool(name: string, pool: pg.Pool): void {
    this.#pools.set(name, pool);
  }

  /** Lets `/metrics` show what the broker holds for this process's consumers (NATS), asked when scraped. */
  watchConsumers(stats: () => Promise<ReadonlyArray<{ consumer: string; pending: number; ack_pending: number; redelivered: number }>>): void {
    this.#consumers = stats;
  }

  /** `build_info`: 1, labelled with what runs (so dashboards can tell releases and runtimes apart). */
  buildInfo(version: string, commit: string): void {
    new Gauge({ name: 'build_info', help: 'What this process runs: version, commit and Node', labelNames: ['version', 'commit', 'node'] as const, registers: [this.registry] }).set(
      { version, commit, node: process.version },
      1,
    );
  }
}
