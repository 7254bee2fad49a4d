import type { Outcome } from './shadow-verdict.ts';

/**
 * Background calls with a ceiling: at most `max` running at once, each given up on after
 * `timeoutMs`. A slow copy must not pile up sockets and memory in the process that serves the
 * real traffic; when the ceiling is reached new calls are refused rather than queued (a queue
 * would only delay the same overload).
 */
export class InFlightLimit {
  readonly #max: number;
  readonly #timeoutMs: number;
  #inFlight = 0;

  constructor(max: number, timeoutMs: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`in-flight limit must be a positive integer, got ${max}`);
    if (!(timeoutMs > 0)) throw new RangeError(`timeout must be positive, got ${timeoutMs}`);
    this.#max = max;
    this.#timeoutMs = timeoutMs;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Starts `task` if a slot is free and resolves with how it ended (never rejects); returns
   * undefined when full. The slot is freed at the timeout even if the task still hangs: an
   * abandoned call no longer counts, so one hung copy cannot switch shadowing off for good.
   */
  tryRun(task: () => Promise<unknown>): Promise<Outcome> | undefined {
    if (this.#inFlight >= this.#max) return undefined;
    this.#inFlight += 1;
    return new Promise<Outcome>((resolve) => {
      let done = false;
      const finish = (outcome: Outcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#inFlight -= 1;
        resolve(outcome);
      };
      const timer = setTimeout(() => finish({ kind: 'timeout' }), this.#timeoutMs);
      timer.unref(); // a pending shadow call must not keep the process alive at shutdown
      let started: Promise<unknown>;
      try {
        started = Promise.resolve(task());
      } catch (error) {
        started = Promise.reject(error); // a synchronous throw is a failure like any other
      }
      started.then(
        (value) => finish({ kind: 'answer', value }),
        (error: unknown) => finish({ kind: 'error', error }),
      );
    });
  }
}
