// What o365-events does, without Node-RED: resolve the request (mailbox, calendar, window, zone), fetch it through
// the Graph client, keep all-day events by their floating dates, and compute the difference for changesOnly.
import { O365Error } from '../node-red/errors';
import { calendarPath, GraphClient, mailboxKey, mailboxPath } from '../graph/graph-client';
import { t } from '../node-red/i18n';
import type { GraphEvent } from '../graph/types';
import { now } from '../time/clock';
import { resolveZone, ResolvedZone } from '../time/zones';
import {
  addInstantsInPlace,
  dateOf,
  dateTimeOf,
  instantOf,
  localFields,
  wallReading,
} from '../time/instants';
import { DAY_MS, zonedParts } from '../time/wall-clock';
import { allDayInWindow, resolveWindow, ResolvedWindow, widenForAllDay } from '../time/window';

export { DEFAULT_SELECT } from '../node-red/defaults';
export const PAGE_SIZE = 1000;

export type View = 'calendarView' | 'events';
export type { GraphEvent } from '../graph/types';

export interface EventsSettings {
  user: string;
  calendarId: string;
  view: View;
  start: string;
  end: string;
  select: string;
  timezone: string;
  maxEvents: number;
  changesOnly: boolean;
  allowMsgMailbox: boolean;
}

/** One fetch, fully resolved. */
export interface EventsRequest {
  user: string;
  calendarId: string;
  view: View;
  zone: ResolvedZone;
  window?: ResolvedWindow;
  select: string;
  maxEvents: number;
}

export interface EventsResult {
  events: GraphEvent[];
  window?: ResolvedWindow;
}

export interface Changes {
  added: GraphEvent[];
  updated: GraphEvent[];
  removed: string[];
}

/** id → changeKey: all a baseline keeps. */
export type Baseline = Record<string, string>;

export interface MessageInput {
  [name: string]: unknown;
  user?: unknown;
  calendarId?: unknown;
  start?: unknown;
  end?: unknown;
}

function invalidInput(field: string, key: string, params: Record<string, string | number> = {}): O365Error {
  return new O365Error('INVALID_INPUT', t(`errors.events.${key}`, { field, ...params }), {
    code: 'INVALID_INPUT',
    field,
  });
}

function mailboxValue(value: unknown, field: 'user' | 'calendarId'): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidInput(field, 'notText', { type: typeof value });
  const trimmed = value.trim();
  if (trimmed.length > 512 || /\p{Cc}/u.test(trimmed)) throw invalidInput(field, 'badText');
  return trimmed;
}

/** `$select` with the fields this node itself needs: id always, changeKey for changesOnly, times for the window. */
export function selectFields(select: string, view: View, changesOnly: boolean): string {
  const wanted = select
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  if (!wanted.length) return '';
  const fields = new Set(['id', ...wanted]);
  if (changesOnly) fields.add('changeKey');
  if (view === 'calendarView') for (const f of ['start', 'end', 'isAllDay']) fields.add(f);
  return [...fields].join(',');
}

/**
 * The mailbox and calendar of a request: the node's, or with `allowMsgMailbox` the message's `user` and
 * `calendarId`. Application mode needs a mailbox (there is no /me).
 */
export function resolveMailbox(
  settings: { user: string; calendarId: string; allowMsgMailbox: boolean },
  msg: MessageInput,
  mode: 'delegated' | 'application',
): { user: string; calendarId: string } {
  const user =
    (settings.allowMsgMailbox ? mailboxValue(msg.user, 'user') : undefined) ?? settings.user.trim();
  const calendarId =
    (settings.allowMsgMailbox ? mailboxValue(msg.calendarId, 'calendarId') : undefined) ??
    settings.calendarId.trim();
  if (mode === 'application' && !user) throw invalidInput('user', 'userRequired');
  return { user, calendarId };
}

/** The node's settings with what a message may override (mailbox only when allowed). */
export function resolveRequest(
  settings: EventsSettings,
  msg: MessageInput,
  mode: 'delegated' | 'application',
): EventsRequest {
  const { user, calendarId } = resolveMailbox(settings, msg, mode);
  const zone = resolveZone(settings.timezone);
  const window =
    settings.view === 'calendarView'
      ? resolveWindow(
          { start: settings.start, end: settings.end },
          { start: msg.start, end: msg.end },
          zone.iana,
          now(),
        )
      : undefined;
  return {
    user,
    calendarId,
    view: settings.view,
    zone,
    window,
    select: selectFields(settings.select, settings.view, settings.changesOnly),
    maxEvents: settings.maxEvents > 0 ? Math.floor(settings.maxEvents) : 0,
  };
}

/** More than any DST shift: near an edge closer than this, only the exact instants decide. */
const DST_SLACK_MS = 3 * 3_600_000;

/**
 * The window test for one fetch: timed events by their instants, all-day ones by their floating dates. Exact
 * instants cost Intl calls, so most events are decided on their wall-clock reading first: in the window's own
 * zone two wall readings differ from the instants' difference by at most a DST shift, so an event farther than
 * that from both edges is decided by the wall clock; in any other zone, every UTC offset being under a day, an
 * event a day clear of both edges is in. Only the rest are converted, once per distinct dateTime and zone.
 */
export function windowFilter(window: ResolvedWindow, zone: ResolvedZone): (event: GraphEvent) => boolean {
  const wallStart = wallReading(zonedParts(window.start, zone.iana));
  const wallEnd = wallReading(zonedParts(window.end, zone.iana));
  const zones = new Map<string, string>();
  const instants = new Map<string, number | undefined>();
  const sameZone = (timeZone: unknown): boolean => {
    if (timeZone === undefined || timeZone === '') return true;
    if (typeof timeZone !== 'string') return false;
    let iana = zones.get(timeZone);
    if (iana === undefined) {
      try {
        iana = resolveZone(timeZone).iana;
      } catch {
        iana = '';
      }
      zones.set(timeZone, iana);
    }
    return iana === zone.iana;
  };
  const instant = (value: { dateTime?: unknown; timeZone?: unknown }) => {
    const key = `${String(value.dateTime)}|${String(value.timeZone)}`;
    if (!instants.has(key)) instants.set(key, instantOf(value, zone));
    return instants.get(key);
  };
  return (event) => {
    const start = dateTimeOf(event.start);
    const end = dateTimeOf(event.end);
    if (event.isAllDay === true) {
      const first = dateOf(start.dateTime);
      const last = dateOf(end.dateTime);
      if (!first || !last) return true;
      return allDayInWindow(first, last, window, zone.iana);
    }
    const startLocal = typeof start.dateTime === 'string' ? localFields(start.dateTime) : undefined;
    const endLocal = typeof end.dateTime === 'string' ? localFields(end.dateTime) : undefined;
    if (startLocal && endLocal && startLocal.year >= 100) {
      const from = wallReading(startLocal);
      const to = wallReading(endLocal);
      if (sameZone(start.timeZone) && sameZone(end.timeZone)) {
        if (from < wallEnd - DST_SLACK_MS && to > wallStart + DST_SLACK_MS) return true;
        if (from >= wallEnd + DST_SLACK_MS || to <= wallStart - DST_SLACK_MS) return false;
      } else if (from + DAY_MS <= window.end && to - DAY_MS >= window.start) {
        return true;
      }
    }
    const from = instant(start);
    const to = instant(end);
    if (from === undefined || to === undefined) return true;
    // Graph's own rule: overlapping [start, end); a zero-length event at the window's start counts.
    return from < window.end && (to > window.start || (to === from && from >= window.start));
  };
}

function graphUrl(graph: GraphClient, request: EventsRequest): string {
  const path = `${mailboxPath(request.user)}${calendarPath(request.calendarId)}/${request.view}`;
  const top = String(request.maxEvents ? Math.min(PAGE_SIZE, request.maxEvents) : PAGE_SIZE);
  const query: Record<string, string | undefined> = { $top: top, $select: request.select || undefined };
  if (request.window) {
    const wide = widenForAllDay(request.window);
    query.startDateTime = new Date(wide.start).toISOString();
    query.endDateTime = new Date(wide.end).toISOString();
  }
  query.$orderby = 'start/dateTime';
  return graph.url(path, query);
}

/**
 * Explains a refusal on somebody else's mailbox: rooms share only free/busy unless their calendar is shared, and a
 * share recipient reads another user's non-default calendar only through her own copy (/me/calendars/{id}).
 */
export function explainAccess(
  err: unknown,
  request: Pick<EventsRequest, 'user' | 'calendarId'>,
  mode: 'delegated' | 'application',
): unknown {
  if (!(err instanceof O365Error) || !request.user) return err;
  if (err.cause.status === 403) {
    const key = mode === 'delegated' ? 'errors.events.notShared' : 'errors.events.appDenied';
    return new O365Error(err.code, t(key, { user: request.user, detail: err.message }), err.cause);
  }
  if (err.cause.status === 404 && mode === 'delegated' && request.calendarId) {
    return new O365Error(
      err.code,
      t('errors.events.sharedCopy', { user: request.user, detail: err.message }),
      err.cause,
    );
  }
  return err;
}

export async function fetchEvents(
  graph: GraphClient,
  request: EventsRequest,
  context: {
    configKey: string;
    mode: 'delegated' | 'application';
    signal?: AbortSignal;
    onWait?: (s: number, why: string) => void;
  },
): Promise<EventsResult> {
  const url = graphUrl(graph, request);
  const headers = { Prefer: `outlook.timezone="${request.zone.windows}"` };
  const accept = request.window ? windowFilter(request.window, request.zone) : undefined;
  let result: { items: GraphEvent[] };
  try {
    result = await graph.getAll(url, {
      mailbox: mailboxKey(request.user, context.configKey),
      headers,
      signal: context.signal,
      onWait: context.onWait,
      maxItems: request.maxEvents || undefined,
      accept,
    });
  } catch (err) {
    throw explainAccess(err, request, context.mode);
  }
  let events = result.items;
  if (request.maxEvents && events.length > request.maxEvents) events = events.slice(0, request.maxEvents);
  // The events were just parsed from Graph's answer and belong to this read alone: add the fields in place.
  for (const event of events) addInstantsInPlace(event, request.zone);
  return { events, window: request.window };
}

function idOf(event: GraphEvent): string | undefined {
  return typeof event.id === 'string' ? event.id : undefined;
}

/** The difference between a baseline and the current set (by id and changeKey). */
export function diffEvents(
  baseline: Baseline | undefined,
  events: GraphEvent[],
): { changes: Changes; next: Baseline } {
  const next: Baseline = {};
  const changes: Changes = { added: [], updated: [], removed: [] };
  for (const event of events) {
    const id = idOf(event);
    if (!id) continue;
    const changeKey = typeof event.changeKey === 'string' ? event.changeKey : '';
    next[id] = changeKey;
    if (!baseline || !(id in baseline)) changes.added.push(event);
    else if (baseline[id] !== changeKey) changes.updated.push(event);
  }
  if (baseline) for (const id of Object.keys(baseline)) if (!(id in next)) changes.removed.push(id);
  return { changes, next };
}

export function hasChanges(changes: Changes): boolean {
  return changes.added.length + changes.updated.length + changes.removed.length > 0;
}
