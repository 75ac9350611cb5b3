// The calendar state without Node-RED (o365-state): busy now or not, the events in progress, the next one, and
// when that flips; kept current by one timer at the next start or end, emitted only when it changed.
import type { Clock, TimerHandle } from '../time/clock';
import { MAX_TIMER_MS } from '../time/clock';
import type { GraphEvent } from './events-controller';

export interface CalendarState {
  busy: boolean;
  /** Events in progress now, by start. */
  current: GraphEvent[];
  /** The first event starting after now, or null. */
  next: GraphEvent | null;
  /** When `busy` next flips (ms), or undefined when nothing is known. */
  untilMs?: number;
  /** The next instant at which `current` or `next` can change (any start or end after now). */
  changeAt?: number;
}

interface Timed {
  event: GraphEvent;
  start: number;
  end: number;
  id: string;
}

function timed(events: GraphEvent[]): Timed[] {
  const out: Timed[] = [];
  for (const event of events) {
    const start = msOf(event.start);
    const end = msOf(event.end);
    if (start === undefined || end === undefined) continue;
    out.push({ event, start, end: Math.max(start, end), id: typeof event.id === 'string' ? event.id : '' });
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function msOf(value: unknown): number | undefined {
  const ms = value && typeof value === 'object' ? (value as { ms?: unknown }).ms : undefined;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}

/**
 * The state at `now` of events that carry their instants (addInstants) and passed the filters. An event is in
 * progress while start ≤ now < end; `until` while busy is the end of the block of overlapping or touching events
 * that runs from now (later events that touch or overlap it included), while free the next start.
 */
export function computeState(events: GraphEvent[], now: number): CalendarState {
  const list = timed(events);
  const current = list.filter((e) => e.start <= now && now < e.end);
  const upcoming = list.find((e) => e.start > now);
  let untilMs: number | undefined;
  if (current.length) {
    let blockEnd = Math.max(...current.map((e) => e.end));
    // Sorted by start: one pass extends the block by every event that starts before or at its end.
    for (const e of list) if (e.start <= blockEnd && e.end > blockEnd) blockEnd = e.end;
    untilMs = blockEnd;
  } else if (upcoming) {
    untilMs = upcoming.start;
  }
  let changeAt: number | undefined;
  for (const e of list) {
    for (const edge of [e.start, e.end])
      if (edge > now && (changeAt === undefined || edge < changeAt)) changeAt = edge;
  }
  return {
    busy: current.length > 0,
    current: current.map((e) => e.event),
    next: upcoming ? upcoming.event : null,
    untilMs,
    changeAt,
  };
}

/** What "the same state" means: busy, the ids in current, next's id (DESIGN.md). */
export function stateKey(state: CalendarState): string {
  const id = (e: GraphEvent | null) => (e && typeof e.id === 'string' ? e.id : '');
  return JSON.stringify([state.busy, state.current.map(id), id(state.next)]);
}

export type StateReason = 'read' | 'timer' | 'input';

export interface StateOptions {
  clock: Clock;
  /** A state to send; `reason` says why (an input always sends, the others only on change). */
  emit(state: CalendarState, reason: StateReason): void;
  /** After every update, sent or not (the status shows `until`, which may change without a new state). */
  updated?(state: CalendarState): void;
  /** Longest single sleep (timers are chained below setTimeout's limit). Default 60 s. */
  maxSleepMs?: number;
}

export class StateController {
  private events: GraphEvent[] = [];
  private lastKey: string | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private known = false;

  constructor(private readonly options: StateOptions) {}

  get hasEvents(): boolean {
    return this.known;
  }

  get timers(): number {
    return this.timer === undefined ? 0 : 1;
  }

  /** The state now (without sending it). */
  current(): CalendarState {
    return computeState(this.events, this.options.clock.now());
  }

  /**
   * A complete read: the events replace the old ones; sent when the state changed. `quiet` when an input waits for
   * this read: the input sends the state, once.
   */
  applyRead(events: GraphEvent[], quiet = false): void {
    if (this.stopped) return;
    this.events = events;
    this.known = true;
    this.update(quiet ? undefined : 'read');
  }

  /** An input: the current state, always sent. */
  input(): void {
    if (this.stopped) return;
    this.update('input');
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private update(reason: StateReason | undefined): void {
    const state = this.current();
    const key = stateKey(state);
    if (reason === 'input' || (reason && key !== this.lastKey)) {
      this.lastKey = key;
      this.options.emit(state, reason);
    }
    this.arm(state.changeAt);
    this.options.updated?.(state);
  }

  private arm(changeAt: number | undefined): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (changeAt === undefined || this.stopped) return;
    const maxSleep = Math.min(this.options.maxSleepMs ?? 60_000, MAX_TIMER_MS);
    const delay = Math.min(Math.max(0, changeAt - this.options.clock.now()), maxSleep);
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.update('timer');
    }, delay);
  }
}
