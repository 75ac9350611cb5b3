// The time window of a read: the start/end grammar, message overrides, and which all-day events fall inside.
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';
import { checkWindowText, GrammarProblem, isProblem, readIso, WINDOW_GRAMMAR } from './grammar';
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

// ---------------------------------------------------------------------------------------------------------------
// Window values

const DATE_PART = /^(\d{4})-(\d{2})-(\d{2})(?:T[\d:.]*)?$/;

/** An INVALID_WINDOW error naming the field, its message from the catalog (errors.window.<key>). */
function windowError(
  field: WindowField,
  key: string,
  params: Record<string, string | number> = {},
): O365Error {
  return new O365Error(
    'INVALID_WINDOW',
    t(`errors.window.${key}`, { field, usage: t('errors.window.usage'), ...params }),
    {
      field,
    },
  );
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/** How a value reads in an error message: strings quoted, numbers as is, other things by their type. */
function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return t('errors.window.a.bigint', { value: String(value) });
  if (isDate(value)) {
    const ms = Date.prototype.getTime.call(value);
    return Number.isNaN(ms)
      ? t('errors.window.a.invalidDate')
      : t('errors.window.a.date', { iso: new Date(ms).toISOString() });
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return t('errors.window.a.array');
  if (typeof value === 'boolean') return t('errors.window.a.boolean', { value: String(value) });
  if (typeof value === 'object') return t('errors.window.a.object');
  return t('errors.window.a.other', { type: typeof value });
}

/** Dates made in a Function node come from another realm, where `instanceof Date` is false. */
function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

/** A refused text's error: the grammar's problem in words, with its hint and "did you mean" when there are some. */
function textError(field: WindowField, text: string, problem: GrammarProblem): O365Error {
  const p = problem.params ?? {};
  if (problem.key === 'empty') return windowError(field, 'empty');
  if (problem.key !== 'notWindow') {
    return windowError(field, 'badIso', {
      value: quote(text),
      problem: t(`grammar.${problem.key}`, p),
    });
  }
  const hint = typeof p.hint === 'string' ? t('errors.window.hint', { hint: t(`grammar.${p.hint}`) }) : '';
  const suggestion =
    typeof p.suggestion === 'string'
      ? t('errors.window.didYouMean', { suggestion: quote(p.suggestion) })
      : '';
  return windowError(field, 'notWindow', { value: quote(text), hint, suggestion });
}

/** Epoch ms of an ISO 8601 string, or the grammar's problem with it. */
function parseIso(text: string, zone: string): number | GrammarProblem {
  const iso = readIso(text);
  if (isProblem(iso)) return iso;
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
  const grammar = WINDOW_GRAMMAR.exec(text);
  if (grammar) return parseGrammar(grammar, zone, now);
  if (/^\d{4}-\d/.test(text)) {
    const parsed = parseIso(text, zone);
    if (isProblem(parsed)) throw textError(field, text, parsed);
    return parsed;
  }
  throw textError(field, text, checkWindowText(text) ?? { key: 'notWindow' });
}

function parseNumber(value: number, field: WindowField): number {
  if (!Number.isFinite(value)) throw windowError(field, 'notFinite', { value: String(value) });
  if (value < MIN_EPOCH_MS) {
    const hint = value > 0 ? t('errors.window.secondsHint', { ms: value * 1000 }) : '';
    throw windowError(field, 'seconds', { value: String(value), hint });
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
    if (err instanceof RangeError) throw windowError(field, 'outOfRange', { value: describe(value) });
    throw err;
  }
  if (Math.abs(ms) > MAX_TIME_MS) throw windowError(field, 'outOfRange', { value: describe(value) });
  return ms;
}

function toEpochMs(value: unknown, field: WindowField, zone: string, now: number): number {
  if (typeof value === 'string') return parseWindowString(value, field, zone, now);
  if (typeof value === 'number') return parseNumber(value, field);
  if (isDate(value)) {
    const ms = Date.prototype.getTime.call(value);
    if (Number.isNaN(ms)) throw windowError(field, 'invalidDate');
    return ms;
  }
  throw windowError(field, 'notValue', { value: describe(value) });
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
  const both = t('errors.window.both', {
    start: describe(startValue),
    startIso,
    end: describe(endValue),
    endIso,
  });
  if (end <= start) throw windowError('end', 'endNotAfterStart', { both });
  if (end - start > MAX_SPAN_MS) {
    const days = Math.round(((end - start) / DAY_MS) * 100) / 100;
    const span =
      days > MAX_WINDOW_DAYS
        ? t('errors.window.spanDays', { days })
        : t('errors.window.spanMore', { max: MAX_WINDOW_DAYS });
    throw windowError('end', 'tooLong', { span, max: MAX_WINDOW_DAYS, both });
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
