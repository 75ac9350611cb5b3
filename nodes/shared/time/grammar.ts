// The text grammars users type (window values, trigger offsets), written once: the runtime parses with them and
// the build inlines this very file into the editor (window.O365Calendar.grammar), so both accept the same text.
// Browser-safe on purpose: no imports, no Node APIs, no zone math (that is wall-clock.ts), messages as keys.

/**
 * `<anchor>[±N<unit>]` or `[±]N<unit>`, case-sensitive, no spaces inside, N a whole number.
 * Groups: 1 anchor, 2 sign, 3 N, 4 unit (anchored form); 5 sign, 6 N, 7 unit (relative to now).
 */
export const WINDOW_GRAMMAR = /^(?:(now|today|tomorrow|week)(?:([+-])(\d+)([mhdw]))?|([+-]?)(\d+)([mhdw]))$/;

/** ISO 8601 as the window accepts it: a date, or a date and time with optional fraction and Z / ±hh[:mm]. */
export const ISO_GRAMMAR =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** A trigger offset: `[+-]N(s|m|h|d)`, e.g. `-10m` (10 minutes before the edge), `+1h`, `0m`. */
export const OFFSET_GRAMMAR = /^([+-]?)(\d+)([smhd])$/;

export const ANCHORS = ['now', 'today', 'tomorrow', 'week'] as const;

const OFFSET_UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** An offset may reach at most this far either way (DESIGN.md: 7 days). */
export const MAX_OFFSET_MS = 7 * 86_400_000;

export type OffsetUnit = keyof typeof OFFSET_UNIT_MS;

/** A parsed offset: signed milliseconds, and the pieces the editor turns into words. */
export interface Offset {
  ms: number;
  amount: number;
  unit: OffsetUnit;
  /** `before` for a negative offset, `after` for a positive one, `at` for zero. */
  direction: 'before' | 'at' | 'after';
}

/** A reason a text is refused: a message key (`grammar.<key>` in the catalogs) and its parameters. */
export interface GrammarProblem {
  key: string;
  params?: Record<string, string | number>;
}

/** The calendar fields of an ISO text, range-checked; `offsetMinutes` undefined means local time. */
export interface IsoFields {
  year: number;
  month: number;
  day: number;
  /** Undefined for a date alone. */
  hour?: number;
  minute?: number;
  second?: number;
  millisecond?: number;
  offsetMinutes?: number;
}

/** Days in a month; the Gregorian calendar repeats every 400 years, which keeps Date.UTC away from years 0-99. */
function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(2000 + (((year % 400) + 400) % 400), month, 0)).getUTCDate();
}

/** The fields of an ISO 8601 text, or the problem with it (a non-existent date, time or offset). */
export function readIso(text: string): IsoFields | GrammarProblem {
  const m = ISO_GRAMMAR.exec(text);
  if (!m) return { key: 'notIso' };
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) return { key: 'noMonth', params: { month } };
  if (day < 1 || day > daysIn(year, month)) {
    return { key: 'noDay', params: { yearMonth: `${m[1]}-${m[2]}`, days: daysIn(year, month) } };
  }
  if (m[4] === undefined) return { year, month, day };
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) return { key: 'noTime' };
  const millisecond = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const zoneText = m[8];
  if (zoneText === undefined) return { year, month, day, hour, minute, second, millisecond };
  let offsetMinutes = 0;
  if (zoneText !== 'Z' && zoneText !== 'z') {
    const digits = zoneText.slice(1).replace(':', '');
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2) || 0)];
    if (oh > 23 || om > 59) return { key: 'noOffset', params: { offset: zoneText } };
    offsetMinutes = (zoneText[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return { year, month, day, hour, minute, second, millisecond, offsetMinutes };
}

export function isProblem(value: unknown): value is GrammarProblem {
  return !!value && typeof value === 'object' && typeof (value as GrammarProblem).key === 'string';
}

/** A hint key for the mistakes people make with the window grammar, or undefined. */
export function windowHint(text: string): string | undefined {
  if (/\s/.test(text)) return 'hintSpaces';
  if (/^[+-]?\d+$/.test(text)) return 'hintNoUnit';
  if (/\d[.,]\d/.test(text)) return 'hintWhole';
  if (/\dM$/.test(text)) return 'hintMonths';
  if (WINDOW_GRAMMAR.test(text.toLowerCase())) return 'hintLowerCase';
  if (/^(now|today|tomorrow|week)?[+-]?\d+[A-Za-z]+$/.test(text)) return 'hintUnits';
  return undefined;
}

/** The words people write for the units, each spelled out to the one letter the grammar takes. */
const UNIT_WORDS: Record<string, 'm' | 'h' | 'd' | 'w'> = {
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  day: 'd',
  days: 'd',
  wk: 'w',
  wks: 'w',
  week: 'w',
  weeks: 'w',
};

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** The one word of `words` nearest to `word` (1 edit for short words, 2 from five letters on), or undefined. */
function nearest(word: string, words: readonly string[]): string | undefined {
  const allowed = word.length >= 5 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  let tie = false;
  for (const candidate of words) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance, tie] = [candidate, distance, false];
    else if (distance === bestDistance) tie = true;
  }
  return tie ? undefined : best;
}

function unitOf(word: string): 'm' | 'h' | 'd' | 'w' | undefined {
  // A capital M is not a typo to correct: it would turn months into minutes (windowHint says so instead).
  if (/^(?:[mhdw]|[HDW])$/.test(word)) return word.toLowerCase() as 'm' | 'h' | 'd' | 'w';
  if (word.length < 2) return undefined;
  const spelled = nearest(word.toLowerCase(), Object.keys(UNIT_WORDS));
  return spelled ? UNIT_WORDS[spelled] : undefined;
}

/**
 * The window value a near miss was probably meant to be ("tommorow" → "tomorrow", "now + 7 days" → "now+7d",
 * "Today" → "today"), or undefined when there is no single good guess. Anchors and unit words are matched by
 * edit distance; the answer always passes the grammar.
 */
export function suggestWindow(value: string): string | undefined {
  const text = String(value ?? '').trim();
  if (text === '' || WINDOW_GRAMMAR.test(text) || /^\d{4}-\d/.test(text)) return undefined;
  const squeezed = text.replace(/\s+/g, '');
  const m = /^([A-Za-z]*)(?:([+-]?)(\d+)([A-Za-z]*))?$/.exec(squeezed);
  if (!m) return undefined;
  const [, word, sign, digits, unitWord] = m;
  const anchor = word ? nearest(word.toLowerCase(), ANCHORS) : '';
  if (anchor === undefined) return undefined;
  let offset = '';
  if (digits !== undefined) {
    const unit = unitOf(unitWord);
    if (!unit) return undefined;
    offset = `${anchor && !sign ? '+' : sign}${digits}${unit}`;
  } else if (!anchor) {
    return undefined;
  }
  const candidate = anchor + offset;
  return candidate !== text && WINDOW_GRAMMAR.test(candidate) ? candidate : undefined;
}

/**
 * Whether a text is a window value the runtime accepts (grammar or ISO 8601 naming a real date and time),
 * or the problem with it: `notWindow` carries the hint key and the suggestion, when there are any.
 * Empty text is a problem here; a form decides itself whether empty means the default.
 */
export function checkWindowText(value: string): GrammarProblem | undefined {
  const text = value.trim();
  if (text === '') return { key: 'empty' };
  if (WINDOW_GRAMMAR.test(text)) return undefined;
  if (/^\d{4}-\d/.test(text)) {
    const iso = readIso(text);
    return isProblem(iso) ? iso : undefined;
  }
  const params: Record<string, string> = {};
  const hint = windowHint(text);
  if (hint) params.hint = hint;
  const suggestion = suggestWindow(text);
  if (suggestion) params.suggestion = suggestion;
  return { key: 'notWindow', params };
}

/** A trigger offset, or the problem with it (not `[+-]N(s|m|h|d)`, or beyond 7 days). */
export function parseOffset(value: string): Offset | GrammarProblem {
  const text = String(value ?? '').trim();
  const m = OFFSET_GRAMMAR.exec(text);
  if (!m) return { key: 'notOffset', params: { value: text } };
  const amount = Number(m[2]);
  const unit = m[3] as OffsetUnit;
  const ms = (m[1] === '-' ? -1 : 1) * amount * OFFSET_UNIT_MS[unit];
  if (!Number.isSafeInteger(amount) || Math.abs(ms) > MAX_OFFSET_MS) {
    return { key: 'offsetTooFar', params: { value: text } };
  }
  return { ms: ms === 0 ? 0 : ms, amount, unit, direction: ms < 0 ? 'before' : ms > 0 ? 'after' : 'at' };
}

/** A subject filter (o365-trigger and o365-state `match`): plain text, or `/regex/flags`. */
export type SubjectMatch =
  { kind: 'any' } | { kind: 'text'; text: string } | { kind: 'regex'; regex: RegExp };

const REGEX_FORM = /^\/(.+)\/([a-z]*)$/s;

/**
 * The `match` setting read: "" matches every subject; `/body/flags` is a regular expression (g and y are dropped:
 * they make test() remember where it stopped); anything else is text the subject must contain, case-insensitive.
 * A bad regular expression is a problem (`badRegex`, with the engine's reason), never a silent "match nothing".
 */
export function parseMatch(value: string): SubjectMatch | GrammarProblem {
  const text = String(value ?? '').trim();
  if (!text) return { kind: 'any' };
  const m = REGEX_FORM.exec(text);
  if (!m) return { kind: 'text', text: text.toLowerCase() };
  try {
    return { kind: 'regex', regex: new RegExp(m[1], m[2].replace(/[gy]/g, '')) };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { key: 'badRegex', params: { value: text, reason } };
  }
}

/** Whether a subject passes a parsed `match`. */
export function subjectMatches(match: SubjectMatch, subject: unknown): boolean {
  if (match.kind === 'any') return true;
  const text = typeof subject === 'string' ? subject : '';
  return match.kind === 'text' ? text.toLowerCase().includes(match.text) : match.regex.test(text);
}

// ---------------------------------------------------------------------------------------------------------------
// Mailbox addresses (the free/busy node's list)

/** An SMTP address as getSchedule and the places API take it: local@domain, no spaces or list separators. */
export const MAILBOX_ADDRESS = /^[^\s@<>()[\],;:"\\]+@[^\s@<>()[\],;:"\\]+$/;

/** The addresses of a text: one per line, or separated by commas, semicolons or spaces. */
export function splitMailboxes(text: string): string[] {
  return String(text ?? '')
    .split(/[\s,;]+/)
    .filter(Boolean);
}
