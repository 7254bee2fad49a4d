import type { Logger } from 'pino';
import type { ModuleDatabase } from './db/pool.ts';
import type { EventBus, Subscription } from './events/bus.ts';
import { OutboxDispatcher, type OutboxOptions } from './events/outbox-dispatcher.ts';
import { UnitOfWork } from './events/unit-of-work.ts';
import { instrumentApi } from './instrument.ts';
import type { Telemetry } from './telemetry/metrics.ts';
import { isTracing, traceExternalCall } from './telemetry/tracing.ts';

/** What the composition root gives every module factory, besides the other modules' interfaces. */
export interface ModuleDeps {
  readonly db: ModuleDatabase;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly outbox?: OutboxOptions;
}

/** What every module factory returns: the same anatomy for every module. */
export interface ModuleInstance<Api extends object = object> {
  readonly name: string;
  /** The module's interface, instrumented (what its tests and a split's local side call). */
  readonly api: Api;
  /** Its implementation, not wrapped: the composition root wraps it once per hand-over (`boundaryApi`). */
  readonly service: Api;
  /** The events it consumes. */
  readonly subscriptions: readonly Subscription[];
  /** Its outbox, for admin views and draining. */
  readonly outbox: OutboxDispatcher;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The plumbing every module needs, built the same way for each: a unit of work writing to the
 * module's outbox, the dispatcher delivering it, and the API instrumented for metrics.
 */
export function createModuleRuntime(name: string, deps: ModuleDeps) {
  const logger = deps.logger.child({ module: name });
  const outbox = new OutboxDispatcher({ db: deps.db, source: name, bus: deps.bus, logger, telemetry: deps.telemetry }, deps.outbox);
  const uow = new UnitOfWork(deps.db, () => outbox.kick());
  deps.telemetry.watchOutbox(name, () => outbox.counts(), () => outbox.oldestPendingSeconds());
  const instrument = <Api extends object>(api: Api): Api => instrumentApi(name, api, deps.telemetry);
  return {
    logger,
    uow,
    outbox,
    instrument,
    callOut: externalCalls(name, deps.telemetry),
    /**
     * The module as the composition root takes it: its API instrumented (and bare), its
     * subscriptions, and its workers (a sender, a reconciler) started after the outbox and
     * stopped before it, in reverse order, so what they finish is still written and delivered.
     */
    instance: <Api extends object>(parts: ModuleParts<Api>): ModuleInstance<Api> => {
      const api = instrument(parts.api);
      const workers = parts.workers ?? [];
      return {
        name,
        api,
        service: parts.api,
        subscriptions: parts.subscriptions,
        outbox,
        start: async () => {
          outbox.start();
          for (const worker of workers) worker.start?.();
        },
        stop: async () => {
          for (const worker of [...workers].reverse()) await worker.stop();
          await outbox.stop();
        },
      };
    },
  };
}

/** What a module gives the kernel to become a `ModuleInstance`. */
export interface ModuleParts<Api extends object> {
  /** Its service, as other modules call it (instrumented here). */
  readonly api: Api;
  readonly subscriptions: readonly Subscription[];
  /** Background work with the module's lifetime, started in this order and stopped in reverse. */
  readonly workers?: readonly ModuleWorker[];
}

export interface ModuleWorker {
  start?(): void;
  stop(): Promise<void>;
}

/**
 * Runs a call to a service outside the system (a payment provider, a mail server, a push
 * service) and counts it in `external_calls_total` by outcome: what `outcomeOf` names its result
 * (`ok` by default), or `error` when it throws. Traced, it is a client span.
 */
export type CallOut = <T>(service: string, operation: string, work: () => Promise<T>, outcomeOf?: (result: T) => string) => Promise<T>;

function externalCalls(module: string, telemetry: Telemetry): CallOut {
  return async (service, operation, work, outcomeOf) => {
    let outcome = 'error';
    try {
      const result = await (isTracing() ? traceExternalCall(module, service, operation, work) : work());
      outcome = outcomeOf ? outcomeOf(result) : 'ok';
      return result;
    } finally {
      telemetry.externalCalls.inc({ module, service, operation, outcome });
    }
  };
}
