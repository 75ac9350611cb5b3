// What the trigger and state nodes share around their controllers: the mailbox they watch (and msg.user /
// msg.calendarId when allowed), membership in the config node's shared reader, and errors kept for the status.
import type { ReaderHandle, ReaderMember, ReadResult } from './calendar-reader';
import { resolveRequest, type MessageInput } from './events-controller';
import type { O365ConfigNode } from '../node-red/config-node';
import { O365Error } from '../node-red/errors';
import type { TimeRange } from '../time/window';
import type { WatchSettings } from './watch-settings';

export interface WatchHooks {
  span(now: number): TimeRange;
  /** A good read, with the calendar's events (Graph's fields, no instants yet). */
  read(result: ReadResult & { events: unknown[] }): void;
  /** A failed read; `quiet` when an input waits for this read (its done() reports the error). */
  failed(error: O365Error, quiet: boolean): void;
  waiting?(seconds: number): void;
}

/** The node's membership in its config node's shared reader, re-targeted when a message may choose the calendar. */
export class CalendarWatch {
  user: string;
  calendarId: string;
  private handle: ReaderHandle | undefined;
  private inputs = 0;
  private closed = false;

  constructor(
    private readonly config: O365ConfigNode,
    private readonly settings: WatchSettings,
    private readonly hooks: WatchHooks,
  ) {
    this.user = settings.user;
    this.calendarId = settings.calendarId;
  }

  /** Joins the reader (a first read follows within a moment). */
  start(): void {
    if (this.closed || this.handle) return;
    const member: ReaderMember = {
      user: this.user,
      calendarId: this.calendarId,
      pollMs: this.settings.pollMs,
      span: (now) => this.hooks.span(now),
      deliver: (result) => {
        if (result.error) this.hooks.failed(result.error, this.inputs > 0);
        else if (result.events) this.hooks.read({ ...result, events: result.events });
      },
      waiting: (seconds) => this.hooks.waiting?.(seconds),
    };
    this.handle = this.config.calendarReader.join(member);
  }

  /** An input: the mailbox it may choose, then a read now; rejects with the read's error. */
  async refresh(msg: MessageInput, mode: 'delegated' | 'application'): Promise<void> {
    const request = resolveRequest(
      {
        user: this.settings.user,
        calendarId: this.settings.calendarId,
        view: 'events',
        start: 'now',
        end: 'now',
        select: '',
        timezone: this.settings.zone.iana,
        maxEvents: 0,
        changesOnly: false,
        allowMsgMailbox: this.settings.allowMsgMailbox,
      },
      this.settings.allowMsgMailbox ? msg : {},
      mode,
    );
    if (request.user !== this.user || request.calendarId !== this.calendarId) {
      this.handle?.leave();
      this.handle = undefined;
      this.user = request.user;
      this.calendarId = request.calendarId;
      this.start();
    }
    if (!this.handle) return;
    this.inputs += 1;
    try {
      const result = await this.handle.refresh();
      if (result.error) throw result.error;
    } finally {
      this.inputs -= 1;
    }
  }

  /** True while an input waits for its read. */
  get inputWaiting(): boolean {
    return this.inputs > 0;
  }

  close(): void {
    this.closed = true;
    this.handle?.leave();
    this.handle = undefined;
  }
}
