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

/** Two to four ASCII digits at `at` as a number, or NaN. */
function digits(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** Graph's offset-less dateTime ('2026-11-27T09:00:00.0000000') as wall-clock fields. */
export function localFields(dateTime: string): Required<LocalTime> | undefined {
  // Graph's own form, read by position (10,000 events are 20,000 of these per read); anything else by the grammar.
  if (
    dateTime.length >= 19 &&
    dateTime.charCodeAt(4) === 45 &&
    dateTime.charCodeAt(7) === 45 &&
    dateTime.charCodeAt(10) === 84 &&
    dateTime.charCodeAt(13) === 58 &&
    dateTime.charCodeAt(16) === 58 &&
    (dateTime.length === 19 || (dateTime.charCodeAt(19) === 46 && dateTime.length > 20))
  ) {
    const year = digits(dateTime, 0, 4);
    const month = digits(dateTime, 5, 2);
    const day = digits(dateTime, 8, 2);
    const hour = digits(dateTime, 11, 2);
    const minute = digits(dateTime, 14, 2);
    const second = digits(dateTime, 17, 2);
    const fraction = dateTime.length > 20 ? dateTime.slice(20) : '0';
    const millisecond = /^\d+$/.test(fraction) ? Number(fraction.slice(0, 3).padEnd(3, '0')) : NaN;
    if (!Number.isNaN(year + month + day + hour + minute + second + millisecond)) {
      return { year, month, day, hour, minute, second, millisecond };
    }
  }
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
// week have about 170 distinct hours), and the hour's offset as text for the ISO form. Hours holding a transition
// are converted exactly, reading by reading.
interface HourFacts {
  /** The instant the hour starts, or null when the offset changes within it. */
  base: number | null;
  /** The hour's offset as `±hh:mm` (when base is not null). */
  offset: string;
}

const hourMemos = new Map<string, Map<number, HourFacts>>();

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function offsetText(offsetMs: number): string {
  const minutes = Math.round(offsetMs / 60_000);
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.trunc(abs / 60))}:${pad(abs % 60)}`;
}

function hourFacts(zone: string, hourWall: number): HourFacts {
  let memo = hourMemos.get(zone);
  if (!memo) {
    if (hourMemos.size >= 50) hourMemos.clear();
    memo = new Map();
    hourMemos.set(zone, memo);
  }
  let facts = memo.get(hourWall);
  if (!facts) {
    const hour = new Date(hourWall);
    const fields = {
      year: hour.getUTCFullYear(),
      month: hour.getUTCMonth() + 1,
      day: hour.getUTCDate(),
      hour: hour.getUTCHours(),
    };
    const first = fromLocal(fields, zone);
    const last = fromLocal({ ...fields, minute: 59, second: 59, millisecond: 999 }, zone);
    const base = last - first === HOUR_MS - 1 ? first : null;
    facts = { base, offset: base === null ? '' : offsetText(hourWall - base) };
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(hourWall, facts);
  }
  return facts;
}

/** The instant of a wall-clock reading in `zone`, and the facts of its hour when they hold for it. */
function placeLocal(local: Required<LocalTime>, zone: string): { ms: number; facts?: HourFacts } {
  if (local.year < 100) return { ms: fromLocal(local, zone) };
  const wall = wallReading(local);
  const hourWall = Math.floor(wall / HOUR_MS) * HOUR_MS;
  const facts = hourFacts(zone, hourWall);
  if (facts.base === null) return { ms: fromLocal(local, zone) };
  return { ms: facts.base + (wall - hourWall), facts };
}

/** The wall-clock fields as ISO 8601 without the offset, as isoWithOffset writes them (ms only when not 0). */
function localIso(local: Required<LocalTime>): string {
  return (
    `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}T${pad(local.hour)}:${pad(local.minute)}:` +
    `${pad(local.second)}${local.millisecond ? `.${pad(local.millisecond, 3)}` : ''}`
  );
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
  return placeLocal(local, zoneOf(timeZone, fallbackZone)).ms;
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

/**
 * `{ms, iso}` of one edge in the output zone. Graph answers in the zone it was asked for, so the usual edge is a
 * wall-clock reading in that very zone: its ISO form is the reading plus the hour's offset, with no Intl call.
 */
function timedEdge(value: unknown, zone: ResolvedZone): Instant | undefined {
  const { dateTime, timeZone } = dateTimeOf(value);
  if (typeof dateTime !== 'string') return undefined;
  const local = localFields(dateTime);
  if (!local) {
    const parsed = Date.parse(dateTime);
    return Number.isNaN(parsed) ? undefined : { ms: parsed, iso: isoWithOffset(parsed, zone.iana) };
  }
  const own = zoneOf(timeZone, zone);
  const { ms, facts } = placeLocal(local, own);
  if (facts && own === zone.iana) return { ms, iso: localIso(local) + facts.offset };
  return { ms, iso: isoWithOffset(ms, zone.iana) };
}

function allDayEdge(value: unknown, zone: ResolvedZone): Instant | undefined {
  const ms = midnightOf(value, zone);
  return ms === undefined ? undefined : { ms, iso: isoWithOffset(ms, zone.iana) };
}

// Object.assign rather than `{ ...value, more }`: Node 20's V8 copies a spread followed by further properties on a
// slow path (about 4 µs an object, a third of the node's time for 10,000 events; found by `npm run bench`).
function withInstant(value: unknown, instant: Instant | undefined): unknown {
  if (instant === undefined || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.assign({}, value, instant);
}

/**
 * The event with `start.ms`, `end.ms` (epoch ms) and `start.iso`, `end.iso` (ISO 8601 with `zone`'s offset) added:
 * a new object, Graph's fields unchanged. Every node that emits events calls this, and only this.
 */
export function addInstants<T extends Record<string, unknown>>(event: T, zone: ResolvedZone): T {
  const edge = event.isAllDay === true ? allDayEdge : timedEdge;
  const start = edge(event.start, zone);
  const end = edge(event.end, zone);
  if (start === undefined && end === undefined) return event;
  return Object.assign({}, event, {
    start: withInstant(event.start, start),
    end: withInstant(event.end, end),
  });
}

/**
 * As addInstants, but adds the fields to the event's own `start` and `end` objects instead of copies: for events
 * just parsed from Graph's answer that nobody else holds (o365-events' read), where copying 10,000 events would
 * cost more than everything else the node does with them.
 */
export function addInstantsInPlace<T extends Record<string, unknown>>(event: T, zone: ResolvedZone): T {
  const edge = event.isAllDay === true ? allDayEdge : timedEdge;
  for (const name of ['start', 'end'] as const) {
    const value = event[name];
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const instant = edge(value, zone);
    if (instant === undefined) continue;
    const target = value as Record<string, unknown>;
    target.ms = instant.ms;
    target.iso = instant.iso;
  }
  return event;
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
