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

  readonly #backlogSources = new Map<string, () => Promise<Record<string, number>>>();

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
  }

  /** Lets `/metrics` show a module's outbox backlog, counted only when scraped. */
  watchOutbox(module: string, count: () => Promise<Record<string, number>>): void {
    this.#backlogSources.set(module, count);
  }
}
