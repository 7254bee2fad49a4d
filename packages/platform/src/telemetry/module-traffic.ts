import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * How a synchronous call crossed a module boundary, as counted where it was made:
 * - `in-process`: the callee is hosted in this process (a direct call through its interface);
 * - `remote`: the callee runs elsewhere; this process called its HTTP client;
 * - `internal`: counted by the callee's process, on arrival over `/internal/...` (the same
 *   call its caller counted as `remote`; kept apart so totals never count a call twice).
 */
export type CallVia = 'in-process' | 'remote' | 'internal';

/** Counts gathered since the last drain; keys are joined with a tab (names never contain one). */
export interface TrafficSnapshot {
  /** `caller \t callee \t method \t via` → calls. */
  readonly calls: ReadonlyMap<string, number>;
  /** Per module: requests served by its routes, and CPU microseconds spent in its code. */
  readonly usage: ReadonlyMap<string, { requests: number; cpuMicros: number }>;
}

interface CpuFrame {
  /** CPU of module calls nested in this one, taken off this one's own share. */
  nested: number;
}

const cpuFrames = new AsyncLocalStorage<CpuFrame>();
const callers = new AsyncLocalStorage<string>();

/** Runs `work` as if called by `caller` (the internal routes name the calling process this way). */
export function withCaller<T>(caller: string, work: () => T): T {
  return callers.run(caller, work);
}

/** The process calling over `/internal` right now (`remote:<module>`), as `withCaller` named it. */
export function internalCaller(): string {
  return callers.getStore() ?? 'remote:unknown';
}

/**
 * The run-time evidence of the extraction report, kept in memory between flushes
 * (`@shop/distribution`'s traffic-store.ts writes it to the database): synchronous calls per
 * (caller → callee, method), requests and CPU time per module.
 *
 * CPU is an approximation, and is documented as such (docs/extraction.md): the process's CPU
 * (`process.cpuUsage()`) consumed while a module call or event handler is in flight, minus what
 * module calls nested in it consumed. Calls overlapping in time each see the CPU of the others,
 * so absolute numbers overstate under concurrency; the module *shares* are what the report
 * uses, and they are good enough to tell a 2x or a 10x difference from none.
 */
export class ModuleTraffic {
  /** One outermost module call in this many has its CPU measured (see `measure`); the first always. */
  readonly #cpuSample: number;
  /** Outermost calls seen per module, to pick which to measure (the first of each, then every nth). */
  readonly #outermost = new Map<string, number>();
  #calls = new Map<string, number>();
  #usage = new Map<string, { requests: number; cpuMicros: number }>();

  constructor(options: { cpuSample?: number } = {}) {
    this.#cpuSample = options.cpuSample ?? 16;
  }

  call(caller: string, callee: string, method: string, via: CallVia, count = 1): void {
    const key = `${caller}\t${callee}\t${method}\t${via}`;
    this.#calls.set(key, (this.#calls.get(key) ?? 0) + count);
  }

  request(module: string, count = 1): void {
    this.#usageOf(module).requests += count;
  }

  cpu(module: string, micros: number): void {
    this.#usageOf(module).cpuMicros += micros;
  }

  /**
   * Runs `work` (a module call or event handler of `module`) and charges its CPU to `module`.
   * Sampled: per module, one outermost call in `cpuSample` is measured (with every call nested in it), and
   * counted `cpuSample` times. Measuring costs two system calls and an async context per call,
   * ~3 µs, which the benchmark showed was most of a module call's overhead; shares stay unbiased.
   */
  async measure<T>(module: string, work: () => Promise<T>): Promise<T> {
    const parent = cpuFrames.getStore();
    if (!parent) {
      const seen = this.#outermost.get(module) ?? 0;
      this.#outermost.set(module, seen + 1);
      if (seen % this.#cpuSample !== 0) return work();
    }
    const frame: CpuFrame = { nested: 0 };
    const start = process.cpuUsage();
    try {
      return await cpuFrames.run(frame, work);
    } finally {
      const used = process.cpuUsage(start);
      const total = used.user + used.system;
      this.cpu(module, Math.max(0, total - frame.nested) * this.#cpuSample);
      if (parent) parent.nested += total;
    }
  }

  /**
   * `api` as handed to `caller` (another module, or `http` for the routes): every call is counted
   * as (caller → callee, method). `hosted` says whether the callee runs in this process.
   */
  fromCaller<Api extends object>(caller: string, callee: string, api: Api, hosted: boolean): Api {
    const via: CallVia = hosted ? 'in-process' : 'remote';
    return wrapMethods(api, (method, target) => (...args) => {
      this.call(caller, callee, method, via);
      return target(...args);
    });
  }

  /** `api` as reached over `/internal` from other processes: the caller is the one `withCaller` names. */
  atEntry<Api extends object>(callee: string, api: Api): Api {
    return wrapMethods(api, (method, target) => (...args) => {
      this.call(internalCaller(), callee, method, 'internal');
      return target(...args);
    });
  }

  /** What was counted since the last drain; the counters start again from zero. */
  drain(): TrafficSnapshot {
    const snapshot = { calls: this.#calls, usage: this.#usage };
    this.#calls = new Map();
    this.#usage = new Map();
    return snapshot;
  }

  /** Puts a drained snapshot back (its flush failed): nothing counted is lost. */
  restore(snapshot: TrafficSnapshot): void {
    for (const [key, count] of snapshot.calls) this.#calls.set(key, (this.#calls.get(key) ?? 0) + count);
    for (const [module, usage] of snapshot.usage) {
      const mine = this.#usageOf(module);
      mine.requests += usage.requests;
      mine.cpuMicros += usage.cpuMicros;
    }
  }

  #usageOf(module: string) {
    let usage = this.#usage.get(module);
    if (!usage) this.#usage.set(module, (usage = { requests: 0, cpuMicros: 0 }));
    return usage;
  }
}

type Method = (...args: unknown[]) => Promise<unknown>;

/** A plain object with every method of `api` (own and inherited) replaced by `wrap`'s result. */
export function wrapMethods<Api extends object>(api: Api, wrap: (method: string, target: Method) => Method): Api {
  const wrapped: Record<string, unknown> = {};
  for (const method of methodNames(api)) {
    wrapped[method] = wrap(method, (api as Record<string, Method>)[method]!.bind(api));
  }
  return wrapped as Api;
}

export function methodNames(api: object): string[] {
  const names = new Set<string>();
  for (let proto = api; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== 'constructor' && typeof (api as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  return [...names];
}
