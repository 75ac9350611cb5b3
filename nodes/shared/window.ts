// The events node's time window: the start/end grammar and overrides, and the local wall-clock math beneath them.
import { O365Error } from './errors';

export const DAY_MS = 86_400_000;
/** Graph refuses calendarView windows longer than this. */
export const MAX_WINDOW_DAYS = 1825;
/** Epoch numbers below this (1973-03-03) are refused as probable seconds. */
export const MIN_EPOCH_MS = 1e11;

const MAX_SPAN_MS = MAX_WINDOW_DAYS * DAY_MS;
/** The largest distance from 1970 a JavaScript Date can hold. */
const MAX_TIME_MS = 8.64e15;
/** 400 Gregorian years: used to lift years 0-99 out of Date.UTC's "19xx" shortcut. */
const FOUR_CENTURIES_MS = 146_097 * DAY_MS;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS } as const;

export type WindowField = 'start' | 'end';

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

export interface TimeRange {
  start: number;
  end: number;
}

export interface WindowSpec {
  start: string;
  end: string;
}

export interface WindowOverrides {
  start?: unknown;
  end?: unknown;
}

export interface ResolvedWindow extends TimeRange {
  startIso: string;
  endIso: string;
}

const USAGE =
  'use now, today, tomorrow, week, an offset like -1h or +7d, ISO 8601, a Date or epoch milliseconds';

// ---------------------------------------------------------------------------------------------------------------
// Wall-clock math

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
      throw new O365Error('INVALID_TIMEZONE', `timezone: "${zone}" is not a time zone this system knows`);
    }
    formatters.set(zone, f);
  }
  return f;
}

/** Epoch ms of a wall-clock reading taken as if it were UTC; years 0-99 are meant literally. */
function utcFromFields(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
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
function zoneOffsetMs(ms: number, zone: string): number {
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
function firstInstantOfDate(year: number, month: number, day: number, zone: string): number {
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

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, '0');
}

function formatYear(year: number): string {
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

/** The local date at `ms` in `zone`, 'YYYY-MM-DD'. */
export function localDate(ms: number, zone: string): string {
  const p = zonedParts(ms, zone);
  return `${formatYear(p.year)}-${pad(p.month)}-${pad(p.day)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Window values

/**
 * `<anchor>[±N<unit>]` or `[±]N<unit>`, case-sensitive, no spaces inside, N a whole number.
 * Groups: 1 anchor, 2 sign, 3 N, 4 unit (anchored form); 5 sign, 6 N, 7 unit (relative to now).
 */
const GRAMMAR = /^(?:(now|today|tomorrow|week)(?:([+-])(\d+)([mhdw]))?|([+-]?)(\d+)([mhdw]))$/;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const DATE_PART = /^(\d{4})-(\d{2})-(\d{2})(?:T[\d:.]*)?$/;

function windowError(field: WindowField, message: string): O365Error {
  return new O365Error('INVALID_WINDOW', message, { field });
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/** How a value reads in an error message: strings quoted, numbers as is, other things by their type. */
function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return `a bigint (${value}n)`;
  if (isDate(value)) {
    const t = Date.prototype.getTime.call(value);
    return Number.isNaN(t) ? 'an invalid Date' : `the Date ${new Date(t).toISOString()}`;
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** Dates made in a Function node come from another realm, where `instanceof Date` is false. */
function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcFromFields(year, month + 1, 0)).getUTCDate();
}

/** A hint for the mistakes people make with the grammar, or "". */
function grammarHint(text: string): string {
  if (/\s/.test(text)) return ' (no spaces inside: write now+7d)';
  if (/^[+-]?\d+$/.test(text)) {
    return ' (a number needs a unit m, h, d or w; epoch milliseconds must be a number)';
  }
  if (/\d[.,]\d/.test(text)) return ' (N must be a whole number: write 90m, not 1.5h)';
  if (/\dM$/.test(text)) return ' (m is minutes and lower case; for months use d or w)';
  if (GRAMMAR.test(text.toLowerCase())) return ' (anchors and units are lower case)';
  if (/^(now|today|tomorrow|week)?[+-]?\d+[A-Za-z]+$/.test(text)) {
    return ' (units are m = minutes, h = hours, d = days, w = weeks)';
  }
  return '';
}

/** Epoch ms of an ISO 8601 string, or an error message naming what is wrong with it. */
function parseIso(text: string, zone: string): number | string {
  const m = ISO.exec(text);
  if (!m) return 'is not ISO 8601 (YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.sss]], optionally with Z or ±hh:mm)';
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) return `has no month ${month}`;
  if (day < 1 || day > daysInMonth(year, month)) {
    return `is not a date: ${m[1]}-${m[2]} has ${daysInMonth(year, month)} days`;
  }
  if (m[4] === undefined) return firstInstantOfDate(year, month, day, zone);

  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) {
    return 'is not a time of day (hours 00-23, minutes and seconds 00-59)';
  }
  const millisecond = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const zoneText = m[8];
  if (zoneText === undefined) return fromLocal({ year, month, day, hour, minute, second, millisecond }, zone);

  let offset = 0;
  if (zoneText !== 'Z' && zoneText !== 'z') {
    const digits = zoneText.slice(1).replace(':', '');
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2) || 0)];
    if (oh > 23 || om > 59) return `has no offset ${zoneText}`;
    offset = (zoneText[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return utcFromFields(year, month, day, hour, minute, second, millisecond) - offset * 60_000;
}

function parseGrammar(m: RegExpExecArray, zone: string, now: number): number {
  const anchor = m[1] ?? 'now';
  const sign = m[2] ?? m[5];
  const digits = m[3] ?? m[6];
  const unit = (m[4] ?? m[7]) as keyof typeof UNIT_MS | undefined;

  let base = now;
  let date: { year: number; month: number; day: number } | undefined;
  if (anchor !== 'now') {
    const p = zonedParts(now, zone);
    const shift = anchor === 'tomorrow' ? 1 : anchor === 'week' ? 1 - p.weekday : 0;
    const d = new Date(utcFromFields(p.year, p.month, p.day + shift));
    date = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
    base = firstInstantOfDate(date.year, date.month, date.day, zone);
  }
  if (digits === undefined || unit === undefined) return base;

  const n = (sign === '-' ? -1 : 1) * Number(digits);
  if (!Number.isSafeInteger(n) || Math.abs(n) * UNIT_MS[unit] > 2 * MAX_TIME_MS) {
    throw new RangeError('out of range');
  }
  if (unit === 'm' || unit === 'h') return base + n * UNIT_MS[unit];

  // Days and weeks count on the calendar: a day-anchored value stays on a day's first instant, `now` keeps its time.
  const days = unit === 'w' ? n * 7 : n;
  if (date) return firstInstantOfDate(date.year, date.month, date.day + days, zone);
  return addLocalDays(now, days, zone);
}

function parseWindowString(value: string, field: WindowField, zone: string, now: number): number {
  const text = value.trim();
  if (text === '') throw windowError(field, `${field} is empty; ${USAGE}`);
  const grammar = GRAMMAR.exec(text);
  if (grammar) return parseGrammar(grammar, zone, now);
  if (/^\d{4}-\d/.test(text)) {
    const parsed = parseIso(text, zone);
    if (typeof parsed === 'string') throw windowError(field, `${field}: ${quote(text)} ${parsed}`);
    return parsed;
  }
  throw windowError(field, `${field}: ${quote(text)} is not a window value; ${USAGE}${grammarHint(text)}`);
}

function parseNumber(value: number, field: WindowField): number {
  if (!Number.isFinite(value)) {
    throw windowError(field, `${field}: ${value} is not a time; epoch milliseconds must be a finite number`);
  }
  if (value < MIN_EPOCH_MS) {
    const hint = value > 0 ? `; send ${value * 1000} for that time in milliseconds` : '';
    throw windowError(
      field,
      `${field}: ${value} is below 10^11, so it is probably seconds since 1970, not epoch milliseconds${hint}`,
    );
  }
  return Math.floor(value);
}

/**
 * One window value as epoch ms: a grammar string, ISO 8601, a Date or epoch milliseconds. Local times and
 * anchors are read in `zone` (an IANA name) with `now` as the current time.
 * @throws O365Error `INVALID_WINDOW` with `cause.field` = `field`, its message naming the value.
 */
export function parseWindowValue(value: unknown, field: WindowField, zone: string, now: number): number {
  let ms: number;
  try {
    ms = toEpochMs(value, field, zone, now);
  } catch (err) {
    // Offsets that run past the Date range surface as RangeError from Date or Intl.
    if (err instanceof RangeError) throw windowError(field, `${field}: ${describe(value)} is out of range`);
    throw err;
  }
  if (Math.abs(ms) > MAX_TIME_MS) throw windowError(field, `${field}: ${describe(value)} is out of range`);
  return ms;
}

function toEpochMs(value: unknown, field: WindowField, zone: string, now: number): number {
  if (typeof value === 'string') return parseWindowString(value, field, zone, now);
  if (typeof value === 'number') return parseNumber(value, field);
  if (isDate(value)) {
    const ms = Date.prototype.getTime.call(value);
    if (Number.isNaN(ms)) throw windowError(field, `${field}: the Date is invalid (Invalid Date)`);
    return ms;
  }
  throw windowError(field, `${field}: ${describe(value)} is not a window value; ${USAGE}`);
}

/** True when a message override is given at all: undefined, null and blank strings leave the node's setting. */
function isGiven(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}

/**
 * The window to fetch: the node's `start`/`end`, each replaced by an override when one is given.
 * @throws O365Error `INVALID_WINDOW` for a bad value, an end not after the start, or more than 1825 days.
 */
export function resolveWindow(
  spec: WindowSpec,
  overrides: WindowOverrides,
  zone: string,
  now: number,
): ResolvedWindow {
  const startValue = isGiven(overrides?.start) ? overrides.start : spec.start;
  const endValue = isGiven(overrides?.end) ? overrides.end : spec.end;
  const start = parseWindowValue(startValue, 'start', zone, now);
  const end = parseWindowValue(endValue, 'end', zone, now);
  const startIso = isoWithOffset(start, zone);
  const endIso = isoWithOffset(end, zone);
  const both = `start ${describe(startValue)} is ${startIso}, end ${describe(endValue)} is ${endIso}`;
  if (end <= start) throw windowError('end', `end must be after start: ${both}`);
  if (end - start > MAX_SPAN_MS) {
    const days = Math.round(((end - start) / DAY_MS) * 100) / 100;
    const span = days > MAX_WINDOW_DAYS ? `${days} days` : `more than ${MAX_WINDOW_DAYS} days`;
    throw windowError(
      'end',
      `the window spans ${span}; Microsoft Graph allows at most ${MAX_WINDOW_DAYS} days: ${both}`,
    );
  }
  return { start, end, startIso, endIso };
}

// ---------------------------------------------------------------------------------------------------------------
// All-day events

function parseDatePart(text: unknown): { year: number; month: number; day: number } | undefined {
  if (typeof text !== 'string') return undefined;
  const m = DATE_PART.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

/**
 * Whether an all-day event (floating dates: `startDate` inclusive, `endDate` exclusive, 'YYYY-MM-DD' or Graph's
 * 'YYYY-MM-DDT00:00:00.0000000') overlaps the window's local dates in `zone`. An event whose start date cannot be
 * read is kept (better shown than silently lost); a missing or non-increasing end date counts as one day.
 */
export function allDayInWindow(startDate: string, endDate: string, window: TimeRange, zone: string): boolean {
  const first = parseDatePart(startDate);
  if (!first) return true;
  const last = parseDatePart(endDate);
  const from = firstInstantOfDate(first.year, first.month, first.day, zone);
  const given = last ? firstInstantOfDate(last.year, last.month, last.day, zone) : from;
  const to = given > from ? given : firstInstantOfDate(first.year, first.month, first.day + 1, zone);
  return from < window.end && to > window.start;
}

/**
 * The window to ask Graph for when all-day events matter: a day wider on each side (Graph places floating dates
 * in whatever zone it likes), then filter with allDayInWindow. Never wider than Graph's 1825 days: near that
 * limit the extra is shared between the two sides.
 */
export function widenForAllDay(window: TimeRange): TimeRange {
  const room = Math.max(0, MAX_SPAN_MS - (window.end - window.start));
  const extra = Math.min(DAY_MS, Math.floor(room / 2));
  return { start: window.start - extra, end: window.end + extra };
}
