// One calendarView read per poll for every trigger and state node on the same config node, mailbox and calendar
// (owned by the config node, like core's MQTT broker owns the connection its nodes share): the read covers the
// union of their spans, runs at the shortest of their poll intervals, and every member gets the result.
import { calendarPath, GraphClient, mailboxKey, mailboxPath } from '../graph/graph-client';
import { O365Error } from '../node-red/errors';
import { DEFAULT_SELECT } from '../node-red/defaults';
import { toNodeError } from '../node-red/status';
import type { Clock, TimerHandle } from '../time/clock';
import { TimeRange, widenForAllDay } from '../time/window';
import { GraphEvent, PAGE_SIZE, selectFields } from './events-controller';

/** The fields trigger and state nodes read: what o365-events emits by default, and what the filters look at. */
export const READER_SELECT = selectFields(`${DEFAULT_SELECT},responseStatus`, 'calendarView', false);

export interface ReadRequest extends TimeRange {
  user: string;
  calendarId: string;
}

export interface ReadContext {
  signal: AbortSignal;
  onWait(seconds: number): void;
}

/** Reads the events of a calendar overlapping [start, end) (all-day ones a day wider), Graph's fields unchanged. */
export type ReadFn = (request: ReadRequest, context: ReadContext) => Promise<GraphEvent[]>;

export interface ReadResult {
  /** When the read started: the events are the calendar as of then. */
  at: number;
  events?: GraphEvent[];
  error?: O365Error;
}

export interface ReaderMember {
  user: string;
  calendarId: string;
  /** How often this member wants a read. */
  pollMs: number;
  /** What this member needs the read to cover, given the time the read starts. */
  span(now: number): TimeRange;
  /** Every completed read of the group (events, or the error). */
  deliver(result: ReadResult): void;
  /** A read of the group is on its way / waiting out a throttle. */
  fetching?(): void;
  waiting?(seconds: number): void;
}

export interface ReaderHandle {
  /** A read now (joined by every request made before it starts); resolves after the members had it. */
  refresh(): Promise<ReadResult>;
  leave(): void;
}

export interface ReaderOptions {
  clock: Clock;
  read: ReadFn;
  /** Delay of a first read after a member joins, so that the nodes of one deploy share it. Default 250 ms. */
  firstReadMs?: number;
}

interface Deferred {
  promise: Promise<ReadResult>;
  resolve(result: ReadResult): void;
}

function deferred(): Deferred {
  let resolve!: (result: ReadResult) => void;
  const promise = new Promise<ReadResult>((r) => (resolve = r));
  return { promise, resolve };
}

class ReadGroup {
  readonly members = new Set<ReaderMember>();
  private pending: { deferred: Deferred; due: number } | undefined;
  private running = false;
  private lastReadAt: number | undefined;
  private timer: TimerHandle | undefined;
  private controller: AbortController | undefined;
  private closed = false;

  constructor(
    private readonly reader: CalendarReader,
    private readonly user: string,
    private readonly calendarId: string,
  ) {}

  request(delayMs: number): Promise<ReadResult> {
    const due = this.reader.clock.now() + delayMs;
    if (!this.pending) this.pending = { deferred: deferred(), due };
    else this.pending.due = Math.min(this.pending.due, due);
    this.arm();
    return this.pending.deferred.promise;
  }

  close(): void {
    this.closed = true;
    this.disarm();
    this.controller?.abort();
  }

  private get pollMs(): number {
    let poll = Infinity;
    for (const member of this.members) poll = Math.min(poll, member.pollMs);
    return poll;
  }

  private disarm(): void {
    if (this.timer !== undefined) this.reader.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One timer: the pending read's start, else the next poll. */
  arm(): void {
    this.disarm();
    if (this.closed || this.running) return;
    const now = this.reader.clock.now();
    let due: number | undefined = this.pending?.due;
    if (due === undefined && this.lastReadAt !== undefined && Number.isFinite(this.pollMs)) {
      due = this.lastReadAt + this.pollMs;
    }
    if (due === undefined) return;
    // Chained below setTimeout's limit; a wake-up before `due` just arms again.
    this.timer = this.reader.clock.setTimeout(() => this.wake(), Math.min(Math.max(0, due - now), 3_600_000));
  }

  private wake(): void {
    this.timer = undefined;
    if (this.closed || this.running) return;
    const now = this.reader.clock.now();
    const due = this.pending?.due ?? (this.lastReadAt ?? now) + this.pollMs;
    if (due > now) {
      this.arm();
      return;
    }
    void this.run();
  }

  private async run(): Promise<void> {
    const batch = this.pending?.deferred ?? deferred();
    this.pending = undefined;
    this.running = true;
    const at = this.reader.clock.now();
    let start = Infinity;
    let end = -Infinity;
    for (const member of this.members) {
      const span = member.span(at);
      start = Math.min(start, span.start);
      end = Math.max(end, span.end);
    }
    for (const member of this.members) member.fetching?.();
    const controller = new AbortController();
    this.controller = controller;
    let result: ReadResult;
    try {
      this.reader.reads += 1;
      const events = await this.reader.read(
        { user: this.user, calendarId: this.calendarId, start, end },
        {
          signal: controller.signal,
          onWait: (seconds) => {
            for (const member of this.members) member.waiting?.(seconds);
          },
        },
      );
      result = { at, events };
    } catch (err) {
      result = { at, error: toNodeError(err) };
    }
    this.running = false;
    this.lastReadAt = at;
    if (!this.closed && result.error?.code !== 'ABORTED') {
      for (const member of this.members) {
        try {
          member.deliver(result);
        } catch {
          // One member's failure must not keep the read from the others.
        }
      }
    }
    batch.resolve(result);
    this.arm();
  }
}

export class CalendarReader {
  readonly clock: Clock;
  readonly read: ReadFn;
  /** Reads started so far (for the benchmark and the tests: one per group and poll). */
  reads = 0;
  private readonly groups = new Map<string, ReadGroup>();
  private readonly firstReadMs: number;

  constructor(options: ReaderOptions) {
    this.clock = options.clock;
    this.read = options.read;
    this.firstReadMs = options.firstReadMs ?? 250;
  }

  get groupCount(): number {
    return this.groups.size;
  }

  /** Joins the member to the group of its mailbox and calendar and asks for a read soon. */
  join(member: ReaderMember): ReaderHandle {
    const key = JSON.stringify([member.user.trim().toLowerCase(), member.calendarId.trim()]);
    let group = this.groups.get(key);
    if (!group) {
      group = new ReadGroup(this, member.user.trim(), member.calendarId.trim());
      this.groups.set(key, group);
    }
    const mine = group;
    mine.members.add(member);
    void mine.request(this.firstReadMs);
    let left = false;
    return {
      refresh: () => (left ? Promise.resolve({ at: this.clock.now() }) : mine.request(0)),
      leave: () => {
        if (left) return;
        left = true;
        mine.members.delete(member);
        if (mine.members.size === 0) {
          mine.close();
          if (this.groups.get(key) === mine) this.groups.delete(key);
        } else {
          mine.arm();
        }
      },
    };
  }

  close(): void {
    for (const group of this.groups.values()) group.close();
    this.groups.clear();
  }
}

/** The calendarView read through the shared Graph client (paging, throttling, 4 per mailbox, retries). */
export async function readCalendarView(
  graph: GraphClient,
  request: ReadRequest,
  context: ReadContext & { configKey: string },
): Promise<GraphEvent[]> {
  // All-day events are floating dates: read a day wider, each node places them in its own zone.
  const wide = widenForAllDay(request);
  const url = graph.url(`${mailboxPath(request.user)}${calendarPath(request.calendarId)}/calendarView`, {
    startDateTime: new Date(wide.start).toISOString(),
    endDateTime: new Date(wide.end).toISOString(),
    $top: String(PAGE_SIZE),
    $select: READER_SELECT,
    $orderby: 'start/dateTime',
  });
  const { items } = await graph.getAll(url, {
    mailbox: mailboxKey(request.user, context.configKey),
    headers: { Prefer: 'outlook.timezone="UTC"' },
    signal: context.signal,
    onWait: (seconds) => context.onWait(seconds),
  });
  return items as GraphEvent[];
}
