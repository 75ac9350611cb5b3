// The time window of a read: the start/end grammar, message overrides, and which all-day events fall inside.
import { O365Error } from '../node-red/errors';
import { isProblem, readIso, WINDOW_GRAMMAR, windowHint } from './grammar';
import {
  DAY_MS,
  daysInMonth,
  firstInstantOfDate,
  fromLocal,
  isoWithOffset,
  MAX_TIME_MS,
  utcFromFields,
  zonedParts,
  addLocalDays,
} from './wall-clock';

/** Graph refuses calendarView windows longer than this. */
export const MAX_WINDOW_DAYS = 1825;
/** Epoch numbers below this (1973-03-03) are refused as probable seconds. */
export const MIN_EPOCH_MS = 1e11;

const MAX_SPAN_MS = MAX_WINDOW_DAYS * DAY_MS;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS } as const;

export type WindowField = 'start' | 'end';

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
// Window values

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

const HINTS: Record<string, string> = {
  hintSpaces: ' (no spaces inside: write now+7d)',
  hintNoUnit: ' (a number needs a unit m, h, d or w; epoch milliseconds must be a number)',
  hintWhole: ' (N must be a whole number: write 90m, not 1.5h)',
  hintMonths: ' (m is minutes and lower case; for months use d or w)',
  hintLowerCase: ' (anchors and units are lower case)',
  hintUnits: ' (units are m = minutes, h = hours, d = days, w = weeks)',
};

/** A hint for the mistakes people make with the grammar, or "". */
function grammarHint(text: string): string {
  const key = windowHint(text);
  return key ? HINTS[key] : '';
}

/** Epoch ms of an ISO 8601 string, or an error message naming what is wrong with it. */
function parseIso(text: string, zone: string): number | string {
  const iso = readIso(text);
  if (isProblem(iso)) {
    const p = iso.params ?? {};
    switch (iso.key) {
      case 'noMonth':
        return `has no month ${p.month}`;
      case 'noDay':
        return `is not a date: ${p.yearMonth} has ${p.days} days`;
      case 'noTime':
        return 'is not a time of day (hours 00-23, minutes and seconds 00-59)';
      case 'noOffset':
        return `has no offset ${p.offset}`;
      default:
        return 'is not ISO 8601 (YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.sss]], optionally with Z or ±hh:mm)';
    }
  }
  const { year, month, day, hour, minute, second, millisecond, offsetMinutes } = iso;
  if (hour === undefined) return firstInstantOfDate(year, month, day, zone);
  if (offsetMinutes === undefined)
    return fromLocal({ year, month, day, hour, minute, second, millisecond }, zone);
  return utcFromFields(year, month, day, hour, minute, second, millisecond) - offsetMinutes * 60_000;
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
  const grammar = WINDOW_GRAMMAR.exec(text);
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
