// The instants of Graph's events: Graph's offset-less `dateTime` read in its zone, and the four fields every node
// adds to the events it emits (`start.ms`, `end.ms`, `start.iso`, `end.iso`), written once for all of them.
import { firstInstantOfDate, fromLocal, isoWithOffset, LocalTime } from './wall-clock';
import { resolveZone, ResolvedZone } from './zones';
import type { GraphDateTime } from '../graph/types';

/** Graph's dateTimeTimeZone, its fields unchecked. */
export type DateTimeTimeZone = GraphDateTime;

/** The fields this package adds to an event's `start` and `end`. */
export interface Instant {
  ms: number;
  iso: string;
}

const HOUR_MS = 3_600_000;
const MAX_MEMO = 5000;

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})/;

/** The date part of Graph's dateTime ('2026-11-27T00:00:00.0000000' → '2026-11-27'), or undefined. */
export function dateOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = DATE_ONLY.exec(value);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
}

/** Graph's offset-less dateTime ('2026-11-27T09:00:00.0000000') as wall-clock fields. */
export function localFields(dateTime: string): Required<LocalTime> | undefined {
  const m = LOCAL_DATE_TIME.exec(dateTime);
  if (!m) return undefined;
  return {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6] ?? 0),
    millisecond: Number((m[7] ?? '0').slice(0, 3).padEnd(3, '0')),
  };
}

/** The wall-clock fields read as if they were UTC: the instant they name is within a day of it in any zone. */
export function wallReading(local: LocalTime): number {
  return Date.UTC(
    local.year,
    local.month - 1,
    local.day,
    local.hour ?? 0,
    local.minute ?? 0,
    local.second ?? 0,
    local.millisecond ?? 0,
  );
}

export function dateTimeOf(value: unknown): DateTimeTimeZone {
  return value && typeof value === 'object' ? (value as DateTimeTimeZone) : {};
}

// Where a zone's offset is the same at both ends of a wall-clock hour, every reading in that hour is the hour's
// instant plus the minutes: one exact conversion per zone and hour instead of one per event (10,000 events of a
// week have about 170 distinct hours). Hours holding a transition are converted exactly, reading by reading.
const hourMemo = new Map<string, number | null>();

function instantOfLocal(local: LocalTime, zone: string): number {
  const wall = wallReading(local);
  if (local.year < 100) return fromLocal(local, zone);
  const hourWall = Math.floor(wall / HOUR_MS) * HOUR_MS;
  const key = `${zone}|${hourWall}`;
  let base = hourMemo.get(key);
  if (base === undefined) {
    const hour = new Date(hourWall);
    const fields = {
      year: hour.getUTCFullYear(),
      month: hour.getUTCMonth() + 1,
      day: hour.getUTCDate(),
      hour: hour.getUTCHours(),
    };
    const first = fromLocal(fields, zone);
    const last = fromLocal({ ...fields, minute: 59, second: 59, millisecond: 999 }, zone);
    base = last - first === HOUR_MS - 1 ? first : null;
    if (hourMemo.size >= MAX_MEMO) hourMemo.clear();
    hourMemo.set(key, base);
  }
  return base === null ? fromLocal(local, zone) : base + (wall - hourWall);
}

function zoneOf(timeZone: unknown, fallback: ResolvedZone): string {
  if (typeof timeZone !== 'string' || !timeZone) return fallback.iana;
  try {
    return resolveZone(timeZone).iana;
  } catch {
    return fallback.iana;
  }
}

/**
 * The instant of a Graph dateTimeTimeZone ({dateTime without offset, timeZone name}); a dateTime with an offset
 * is taken as written. Undefined when there is nothing readable.
 */
export function instantOf(value: unknown, fallbackZone: ResolvedZone): number | undefined {
  const { dateTime, timeZone } = dateTimeOf(value);
  if (typeof dateTime !== 'string') return undefined;
  const local = localFields(dateTime);
  if (!local) {
    const parsed = Date.parse(dateTime);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return instantOfLocal(local, zoneOf(timeZone, fallbackZone));
}

/** The first instant of an all-day event's date in `zone` (its local midnight, or the jump where that is skipped). */
function midnightOf(value: unknown, zone: ResolvedZone): number | undefined {
  const date = dateOf(dateTimeOf(value).dateTime);
  if (!date) return undefined;
  const [year, month, day] = date.split('-').map(Number);
  return firstInstantOfDate(year, month, day, zone.iana);
}

/**
 * The instants of an event's start and end: timed events by their dateTime and zone, all-day events (floating
 * dates) at the local midnights of their dates in `zone`. Undefined fields when Graph's value is unreadable.
 */
export function eventInstants(
  event: Record<string, unknown>,
  zone: ResolvedZone,
): { start?: number; end?: number } {
  if (event.isAllDay === true) {
    return { start: midnightOf(event.start, zone), end: midnightOf(event.end, zone) };
  }
  return { start: instantOf(event.start, zone), end: instantOf(event.end, zone) };
}

// Object.assign rather than `{ ...value, more }`: Node 20's V8 copies a spread followed by further properties on a
// slow path (about 4 µs an object, a third of the node's time for 10,000 events; found by `npm run bench`).
function withInstant(value: unknown, ms: number | undefined, zone: ResolvedZone): unknown {
  if (ms === undefined || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.assign({}, value, { ms, iso: isoWithOffset(ms, zone.iana) });
}

/**
 * The event with `start.ms`, `end.ms` (epoch ms) and `start.iso`, `end.iso` (ISO 8601 with `zone`'s offset) added:
 * a new object, Graph's fields unchanged. Every node that emits events calls this, and only this.
 */
export function addInstants<T extends Record<string, unknown>>(event: T, zone: ResolvedZone): T {
  const { start, end } = eventInstants(event, zone);
  if (start === undefined && end === undefined) return event;
  return Object.assign({}, event, {
    start: withInstant(event.start, start, zone),
    end: withInstant(event.end, end, zone),
  });
}

/** The event without the added fields, as Graph expects it back (the write node sends this). */
export function stripInstants<T extends Record<string, unknown>>(event: T): T {
  const out: Record<string, unknown> = { ...event };
  for (const edge of ['start', 'end']) {
    const value = out[edge];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const { ms: _ms, iso: _iso, ...rest } = value as Record<string, unknown>;
      out[edge] = rest;
    }
  }
  return out as T;
}
