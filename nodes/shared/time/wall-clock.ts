// Wall-clock arithmetic in IANA zones: the instant a local time names, the local reading of an instant, ISO with
// offsets. Pure functions over Intl; the window grammar, the instants of events and every node build on these.
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';

export const DAY_MS = 86_400_000;
/** The largest distance from 1970 a JavaScript Date can hold. */
export const MAX_TIME_MS = 8.64e15;
/** 400 Gregorian years: used to lift years 0-99 out of Date.UTC's "19xx" shortcut. */
const FOUR_CENTURIES_MS = 146_097 * DAY_MS;

/** A wall-clock reading in some zone. `weekday` is ISO: 1 = Monday ... 7 = Sunday. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  weekday: number;
}

/** A wall-clock time to place in a zone; omitted time fields are 0, out-of-range fields roll over like Date.UTC. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour?: number;
  minute?: number;
  second?: number;
  millisecond?: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new O365Error('INVALID_TIMEZONE', t('errors.zone.notHere', { zone }), { field: 'timezone' });
    }
    formatters.set(zone, f);
  }
  return f;
}

/** Epoch ms of a wall-clock reading taken as if it were UTC; years 0-99 are meant literally. */
export function utcFromFields(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  if (y >= 0 && y < 100) return Date.UTC(y + 400, mo - 1, d, h, mi, s, ms) - FOUR_CENTURIES_MS;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** `GMT+01:00`-style readings (seconds where the zone has them): one short string instead of seven parts. */
function offsetFormatter(zone: string): Intl.DateTimeFormat {
  let f = offsetFormatters.get(zone);
  if (!f) {
    formatter(zone); // the same check and error for an unknown zone
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormatters.set(zone, f);
  }
  return f;
}

const LONG_OFFSET = /GMT(?:([+-])(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

/** The zone's UTC offset at an instant, in ms (whole seconds: Intl reads clocks to the second). */
export function zoneOffsetMs(ms: number, zone: string): number {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_TIME_MS) throw new RangeError(`time out of range: ${ms}`);
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const m = LONG_OFFSET.exec(offsetFormatter(zone).format(ms));
  if (!m) throw new RangeError(`no offset for ${zone} at ${ms}`);
  if (!m[1]) return 0;
  const seconds = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return (m[1] === '-' ? -seconds : seconds) * 1000;
}

/** The wall clock in `zone` at `ms`. */
export function zonedParts(ms: number, zone: string): LocalParts {
  const d = new Date(ms + zoneOffsetMs(ms, zone));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
    weekday: d.getUTCDay() || 7,
  };
}

/** Minutes `zone` is ahead of UTC at `ms` (Berlin in summer: 120). */
export function offsetMinutes(ms: number, zone: string): number {
  return zoneOffsetMs(ms, zone) / 60_000;
}

/**
 * The instants whose wall clock in `zone` reads `wall` (a wall-clock reading as if UTC): none in a spring-forward
 * gap, two in a fall-back overlap. Offsets are taken a day either side and at the reading itself, which covers
 * every transition in the tz database (the largest, Samoa's skipped 30 December 2011, is one day).
 */
function placeWall(wall: number, zone: string): { instants: number[]; before: number; after: number } {
  if (!Number.isFinite(wall)) throw new RangeError('time out of range');
  const before = zoneOffsetMs(wall - DAY_MS, zone);
  const after = zoneOffsetMs(wall + DAY_MS, zone);
  const offsets = new Set([before, zoneOffsetMs(wall, zone), after]);
  const instants = [...offsets].map((o) => wall - o).filter((t) => t + zoneOffsetMs(t, zone) === wall);
  return { instants: instants.sort((a, b) => a - b), before, after };
}

/**
 * The instant a local wall-clock time names in `zone`. A time skipped by a spring-forward gap moves forward by the
 * gap (02:30 on a 02:00→03:00 day is 03:30); one repeated by a fall-back takes the earlier instant.
 */
export function fromLocal(local: LocalTime, zone: string): number {
  const wall = utcFromFields(
    local.year,
    local.month,
    local.day,
    local.hour ?? 0,
    local.minute ?? 0,
    local.second ?? 0,
    local.millisecond ?? 0,
  );
  const { instants, before } = placeWall(wall, zone);
  // In a gap, reading the wall time with the offset from before the gap lands exactly the gap's length later.
  return instants.length > 0 ? instants[0] : wall - before;
}

/**
 * The first instant of a local date. Where the zone skips that midnight (America/Santiago's first Sunday of
 * September) it is the instant the clock jumps, e.g. 01:00.
 */
export function firstInstantOfDate(year: number, month: number, day: number, zone: string): number {
  const wall = utcFromFields(year, month, day);
  const { instants, before, after } = placeWall(wall, zone);
  if (instants.length > 0) return instants[0];
  // Midnight lies in a gap, so the jump happened in (wall - after, wall - before]; find it to the millisecond.
  let lo = wall - after;
  let hi = wall - before;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zoneOffsetMs(mid, zone) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The first instant of the local date `ms` falls on in `zone`. */
export function startOfLocalDay(ms: number, zone: string): number {
  const p = zonedParts(ms, zone);
  return firstInstantOfDate(p.year, p.month, p.day, zone);
}

/** The same wall-clock time `n` local days later (earlier for negative n), across DST changes. */
export function addLocalDays(ms: number, n: number, zone: string): number {
  const p = zonedParts(ms, zone);
  return fromLocal({ ...p, day: p.day + n }, zone);
}

export function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, '0');
}

export function formatYear(year: number): string {
  if (year >= 0 && year <= 9999) return pad(year, 4);
  return (year < 0 ? '-' : '+') + pad(year, 6);
}

/** ISO 8601 with the zone's offset, always `±hh:mm` (never Z); milliseconds only when there are some. */
export function isoWithOffset(ms: number, zone: string): string {
  // Whole minutes, so the string always parses back to `ms` (only pre-1900 local mean times have seconds).
  const offset = Math.round(zoneOffsetMs(ms, zone) / 60_000);
  const d = new Date(Math.floor(ms) + offset * 60_000);
  const millis = d.getUTCMilliseconds();
  return (
    `${formatYear(d.getUTCFullYear())}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    (millis ? `.${pad(millis, 3)}` : '') +
    `${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
  );
}

/** The wall-clock time at `ms` in `zone`, 'hh:mm' (the time a status shows). */
export function localClock(ms: number, zone: string): string {
  const p = zonedParts(ms, zone);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

/** The local date at `ms` in `zone`, 'YYYY-MM-DD'. */
export function localDate(ms: number, zone: string): string {
  const p = zonedParts(ms, zone);
  return `${formatYear(p.year)}-${pad(p.month)}-${pad(p.day)}`;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(utcFromFields(year, month + 1, 0)).getUTCDate();
}
