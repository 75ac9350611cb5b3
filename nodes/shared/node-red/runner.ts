// The life of a node that reads on input and on a timer, without Node-RED: inputs queue one behind another
// (nothing is dropped), a poll tick while a run is going on is skipped, every error reaches the caller's report
// (done(err) for an input, node.error(err, msg) for a poll: both reach Catch), and close aborts what is running.
import { O365Error } from './errors';
import { toNodeError } from './status';

export type Origin = 'input' | 'poll';

/** One run; `signal` fires when the node closes. */
export type Run = (signal: AbortSignal) => Promise<void>;

export interface RunnerHooks<M> {
  /** A failed run (never an abort on close): show it; `origin` says whether `done` or a poll report follows. */
  failed?(error: O365Error, origin: Origin): void;
  /** What a poll tick runs, with the message its errors are reported with; undefined skips the tick. */
  poll?(): { msg: M; run: Run } | undefined;
  /** A failed poll, reported with its message (node.error(err, msg)). */
  reportPollError(error: O365Error, msg: M): void;
}

export interface RunnerOptions {
  /** Poll interval in ms; 0 = only on input. */
  pollMs: number;
  /** Delay of the first poll after start (a run at deploy). Default 250 ms. */
  firstPollMs?: number;
}

export class NodeRunner<M> {
  private readonly controller = new AbortController();
  private queue: Promise<void> = Promise.resolve();
  private running = false;
  private closedFlag = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly hooks: RunnerHooks<M>,
    private readonly options: RunnerOptions,
  ) {}

  /** Starts polling when an interval is set. */
  start(): void {
    if (this.options.pollMs <= 0) return;
    const first = setTimeout(() => this.poll(), this.options.firstPollMs ?? 250);
    const every = setInterval(() => this.poll(), this.options.pollMs);
    first.unref?.();
    every.unref?.();
    this.timers.push(first, every);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Queues an input run; `done` is called once, with the error when it failed (an abort on close is not one). */
  input(run: Run, done: (err?: Error) => void): void {
    this.queue = this.queue.then(async () => {
      this.running = true;
      try {
        await run(this.controller.signal);
        done();
      } catch (err) {
        const error = this.failure(err, 'input');
        done(error);
      } finally {
        this.running = false;
      }
    });
  }

  /** A poll tick: skipped while a run is going on, and when the hooks have nothing to run. */
  poll(): void {
    if (this.closedFlag || this.running) return;
    const tick = this.hooks.poll?.();
    if (!tick) return;
    const { msg, run } = tick;
    this.running = true;
    this.queue = this.queue.then(async () => {
      try {
        await run(this.controller.signal);
      } catch (err) {
        const error = this.failure(err, 'poll');
        if (error) this.hooks.reportPollError(error, msg);
      } finally {
        this.running = false;
      }
    });
  }

  /** Stops the timers and aborts the running request; queued runs end as aborted. */
  close(): void {
    this.closedFlag = true;
    for (const timer of this.timers) {
      clearTimeout(timer);
      clearInterval(timer);
    }
    this.controller.abort();
  }

  /** The error to report, or undefined for an abort on close (nothing to report: the node is going away). */
  private failure(err: unknown, origin: Origin): O365Error | undefined {
    const error = toNodeError(err);
    if (error.code === 'ABORTED') return undefined;
    if (!this.closedFlag) this.hooks.failed?.(error, origin);
    return error;
  }
}
