// The calendar trigger without Node-RED: which instants fire (edges, offset, filters), one timer for the next one,
// the plan remade on every read, never early, at most once (the fired store), and catch-up of what was missed.
import type { Clock, TimerHandle } from '../time/clock';
import { MAX_TIMER_MS } from '../time/clock';
import type { GraphEvent } from './events-controller';
import { firedKey, FiredStore } from './fired-store';

export type Edge = 'start' | 'end';

export const DAY_MS = 86_400_000;
/** How far ahead a trigger plans (DESIGN.md: the read covers now + 24 h + |offset|). */
export const HORIZON_MS = DAY_MS;

export interface TriggerSettings {
  edges: Edge[];
  /** Signed: negative fires before the edge. */
  offsetMs: number;
  /** 0 = never fire late. */
  catchUpMs: number;
  /** Which events count (filters and match). */
  accept: (event: GraphEvent) => boolean;
}

/** One planned firing. */
export interface PlannedInstant {
  key: string;
  eventId: string;
  edge: Edge;
  /** The event's edge (epoch ms). */
  edgeAt: number;
  /** edgeAt + offset: when it fires. */
  at: number;
  event: GraphEvent;
}

export interface Firing extends PlannedInstant {
  firedAt: number;
  late: boolean;
}

type Due = Omit<Firing, 'firedAt'>;

/** A timer this far behind its instant still counts as on time (a busy event loop, not a sleeping machine). */
export const ON_TIME_MS = 30_000;

/** The span a trigger's read must cover: [now − catchUp − |offset|, now + 24 h + |offset|]. */
export function triggerSpan(
  now: number,
  catchUpMs: number,
  offsetMs: number,
): { start: number; end: number } {
  const reach = Math.abs(offsetMs);
  return { start: now - catchUpMs - reach, end: now + HORIZON_MS + reach };
}

function edgeMs(event: GraphEvent, edge: Edge): number | undefined {
  const value = event[edge];
  const ms = value && typeof value === 'object' ? (value as { ms?: unknown }).ms : undefined;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}

/** Every instant the events give, by `at`; events carry the instants (addInstants) already. */
export function planInstants(events: GraphEvent[], settings: TriggerSettings): PlannedInstant[] {
  const plan: PlannedInstant[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    if (typeof event.id !== 'string' || !event.id || !settings.accept(event)) continue;
    for (const edge of settings.edges) {
      const edgeAt = edgeMs(event, edge);
      if (edgeAt === undefined) continue;
      const key = firedKey(event.id, edge, edgeAt);
      if (seen.has(key)) continue;
      seen.add(key);
      plan.push({ key, eventId: event.id, edge, edgeAt, at: edgeAt + settings.offsetMs, event });
    }
  }
  const startOf = (i: PlannedInstant) => edgeMs(i.event, 'start') ?? i.edgeAt;
  return plan.sort((a, b) => a.at - b.at || startOf(a) - startOf(b) || (a.key < b.key ? -1 : 1));
}

export interface TriggerOptions {
  clock: Clock;
  settings: TriggerSettings;
  store: FiredStore;
  /** Sends the firings (in order); the fired store already holds them on disk (unless persistFailed was told). */
  send(firings: Firing[]): void;
  /** A write of the fired set failed: the firings were still sent (and are remembered in memory). */
  persistFailed(error: unknown): void;
  /** After every plan change, firing and wake-up: for the status. */
  changed?(): void;
  /**
   * The longest single sleep. Timers are chained below setTimeout's limit anyway; a shorter sleep also re-checks the
   * wall clock (a Pi's clock set by NTP after boot) and refreshes "in N min" on the status. Default 60 s.
   */
  maxSleepMs?: number;
}

export class TriggerController {
  private plan: PlannedInstant[] = [];
  /** Keys the plan knew before their instant: firing them after it is not late, only slow. */
  private known = new Set<string>();
  private timer: TimerHandle | undefined;
  private stopped = false;
  private firing: Promise<void> = Promise.resolve();
  /** The first read applied: before it the node does not know its calendar at all. */
  private planned = false;

  constructor(private readonly options: TriggerOptions) {}

  /** The next instant that will fire, if any. */
  next(): PlannedInstant | undefined {
    return this.plan.find((i) => !this.options.store.has(i.key));
  }

  get hasPlan(): boolean {
    return this.planned;
  }

  /** Timers the controller holds now (0 or 1). */
  get timers(): number {
    return this.timer === undefined ? 0 : 1;
  }

  /**
   * A complete read: the plan is remade from it. Instants already due fire now: on time when the old plan knew
   * them before their instant, as catch-up (late) when they are after the mark and at most catchUp old.
   */
  applyRead(events: GraphEvent[]): Promise<void> {
    if (this.stopped) return this.firing;
    const { clock, store, settings } = this.options;
    const now = clock.now();
    const instants = planInstants(events, settings).filter((i) => !store.has(i.key));
    const due: Due[] = [];
    const future: PlannedInstant[] = [];
    for (const instant of instants) {
      if (instant.at > now) future.push(instant);
      else {
        const late = this.lateness(instant, now, this.known.has(instant.key));
        if (late !== undefined) due.push({ ...instant, late });
      }
    }
    this.plan = future;
    this.known = new Set(future.map((i) => i.key));
    this.planned = true;
    // Everything up to now is handled by this read: the mark moves, and goes to disk with the firings.
    store.advanceMark(now);
    const done = this.fire(due, now);
    this.arm();
    this.options.changed?.();
    return done;
  }

  /** Resolves when the firings started so far are sent. */
  settled(): Promise<void> {
    return this.firing;
  }

  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  /**
   * Whether a due instant fires, and whether late: one the plan knew fires on time when its timer is at most
   * ON_TIME_MS behind (a busy event loop); anything else (unknown before, or a machine that slept) is catch-up:
   * after the mark and at most catchUp old, else never.
   */
  private lateness(instant: PlannedInstant, now: number, known: boolean): boolean | undefined {
    if (known && now - instant.at <= ON_TIME_MS) return false;
    if (instant.at > this.options.store.mark && now - instant.at <= this.options.settings.catchUpMs)
      return true;
    return undefined;
  }

  private fire(firings: Due[], now: number): Promise<void> {
    const { store } = this.options;
    if (firings.length) store.add(firings.map((f) => ({ key: f.key, at: f.at })));
    // Written before the message goes out: a crash after the send can never fire it again.
    const write = store.save(now);
    this.firing = this.firing.then(async () => {
      try {
        await write;
      } catch (err) {
        this.options.persistFailed(err);
      }
      if (!firings.length || this.stopped) return;
      const firedAt = this.options.clock.now();
      this.options.send(firings.map((f) => ({ ...f, firedAt })));
    });
    return this.firing;
  }

  private disarm(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One timer: for the next instant, at most maxSleepMs (and setTimeout's limit) away. */
  private arm(): void {
    this.disarm();
    if (this.stopped) return;
    const next = this.next();
    const maxSleep = Math.min(this.options.maxSleepMs ?? 60_000, MAX_TIMER_MS);
    const now = this.options.clock.now();
    if (!next) return;
    const delay = Math.min(Math.max(0, next.at - now), maxSleep);
    this.timer = this.options.clock.setTimeout(() => this.wake(), delay);
  }

  private wake(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.options.clock.now();
    // A timer that woke early fires nothing: only instants whose time has come.
    const due: Due[] = [];
    for (const instant of this.plan) {
      if (instant.at > now || this.options.store.has(instant.key)) continue;
      const late = this.lateness(instant, now, true);
      if (late !== undefined) due.push({ ...instant, late });
    }
    if (due.length || this.plan.some((i) => i.at <= now)) {
      this.plan = this.plan.filter((i) => i.at > now);
      void this.fire(due, now);
    }
    this.arm();
    this.options.changed?.();
  }
}
