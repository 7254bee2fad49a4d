export interface BatchWorkerOptions {
  /** Claims and handles one batch; resolves with how many items it claimed. */
  readonly round: () => Promise<number>;
  /** A round that claimed this many asks for another at once (more may be waiting). */
  readonly batchSize: number;
  /** How often a round runs anyway, to pick up what no kick announced (crash, retry due). */
  readonly sweepIntervalMs: number;
  /** A failed round (database unreachable...): logged, and the next sweep tries again. */
  readonly onError: (error: unknown) => void;
}

/**
 * The loop behind the outbox dispatcher and the notification sender: work right after it is
 * announced (`kick`), a periodic sweep for what nothing announced, and never two rounds at
 * once. A kick during a round asks for one more round instead of running beside it.
 */
export class BatchWorker {
  readonly #options: BatchWorkerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;

  constructor(options: BatchWorkerOptions) {
    this.#options = options;
  }

  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.kick(), this.#options.sweepIntervalMs);
    this.#timer.unref();
    this.kick();
  }

  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Stops the sweep and waits for the round under way; `drain` then handles everything already due. */
  async stop(options: { drain?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
    if (options.drain) await this.#drain(true);
  }

  /** Resolves when no round is running. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Rounds until one claims less than a full batch (or, unless `toTheEnd`, until stopped). */
  async #drain(toTheEnd = false): Promise<void> {
    do {
      this.#again = false;
      try {
        if ((await this.#options.round()) >= this.#options.batchSize) this.#again = true;
      } catch (error) {
        this.#options.onError(error);
        return;
      }
    } while (this.#again && (toTheEnd || !this.#stopped));
  }
}
