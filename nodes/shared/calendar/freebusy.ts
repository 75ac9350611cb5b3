// What o365-schedule does, without Node-RED: check the request (mailboxes, window, interval) before any request,
// list the rooms, ask Graph's getSchedule in batches of 20 with at most 4 in flight, and turn each answer into
// one entry per mailbox: busy now, what is on, what comes next, free until and busy until.
//
// Microsoft (learn.microsoft.com/graph/api/calendar-getschedule, …/graph/outlook-get-free-busy-schedule):
// - POST /me/calendar/getSchedule or /users/{id|userPrincipalName}/calendar/getSchedule with
//   {schedules, startTime, endTime, availabilityViewInterval}; Calendars.Read (delegated or application); works
//   for colleagues and rooms with the default free/busy sharing.
// - "up to 20 entities at once" (the service answers ErrorMailboxDataArrayTooBig above its limit); "The time
//   period to look up must be less than 62 days"; availabilityViewInterval "minimum is 5, maximum is 1440"
//   (default 30).
// - scheduleInformation (…/graph/api/resources/scheduleinformation): scheduleId, availabilityView (a digit per
//   slot: 0 free, 1 tentative, 2 busy, 3 out of office, 4 working elsewhere), scheduleItems, workingHours, and
//   error: freeBusyError {message, responseCode} (…/graph/api/resources/freebusyerror) for an address it cannot
//   resolve, while the others still answer.
// - scheduleItem (…/graph/api/resources/scheduleitem): status free | tentative | busy | oof | workingElsewhere |
//   unknown, start, end (dateTimeTimeZone, in the Prefer: outlook.timezone zone, else UTC), and subject, location,
//   isPrivate only where the mailbox shares them.
import { O365Error } from '../node-red/errors';
import { GraphClient, mailboxKey, mailboxPath } from '../graph/graph-client';
import { t } from '../node-red/i18n';
import { MAILBOX_ADDRESS, splitMailboxes } from '../time/grammar';
import { addInstants } from '../time/instants';
import { DAY_MS } from '../time/wall-clock';
import { resolveWindow, ResolvedWindow } from '../time/window';
import { resolveZone, ResolvedZone } from '../time/zones';
import { checkPlacesCloud, listRooms, Room } from './rooms';

/** Graph's documented maximum of schedules per getSchedule call. */
export const MAX_SCHEDULES_PER_REQUEST = 20;
/** getSchedule calls in flight at once: Graph serves 4 concurrent requests per app and mailbox. */
export const SCHEDULE_CONCURRENCY = 4;
/** The span must be under this many days. */
export const MAX_SPAN_DAYS = 62;
export const MIN_INTERVAL = 5;
export const MAX_INTERVAL = 1440;
export const DEFAULT_INTERVAL = 30;
/** A bound on one read (hostile input): 50 getSchedule calls. */
export const MAX_MAILBOXES = 1000;
/** Statuses that make a mailbox busy; free, workingElsewhere and unknown do not. */
const BUSY = new Set(['busy', 'tentative', 'oof']);

export interface ScheduleSettings {
  user: string;
  mailboxes: string;
  allRooms: boolean;
  roomList: string;
  start: string;
  end: string;
  interval: unknown;
  timezone: string;
  allowMsgMailbox: boolean;
}

/** One read, fully checked. */
export interface ScheduleRequest {
  user: string;
  /** The typed (or msg.payload's) addresses, in order, without repeats. */
  mailboxes: string[];
  /** Also the tenant's rooms (allRooms), or those of roomList. */
  rooms: boolean;
  roomList: string;
  window: ResolvedWindow;
  interval: number;
  zone: ResolvedZone;
}

/** A scheduleItem as emitted: Graph's fields, start and end with the instants added. */
export type ScheduleItem = Record<string, unknown> & {
  status?: unknown;
  start?: { ms?: number; iso?: string };
  end?: { ms?: number; iso?: string };
};

export interface ScheduleEntry {
  mailbox: string;
  name: string | null;
  /** Busy now; null when Graph could not read the mailbox. */
  busy: boolean | null;
  current: ScheduleItem[];
  next: ScheduleItem | null;
  freeUntil: string | null;
  busyUntil: string | null;
  items: ScheduleItem[];
  availabilityView: string | null;
  error: { code: string; message: string } | null;
}

export interface ScheduleResult {
  entries: ScheduleEntry[];
  window: ResolvedWindow;
  /** getSchedule calls and places pages this read made. */
  requests: { schedule: number; places: number };
  /** True when every entry is a room the places API listed. */
  allRooms: boolean;
  /**
   * A failure that did not stop the read: the rooms could not be listed (e.g. Place.Read.All missing), or a
   * batch failed while others answered. The entries are complete as far as known; the node reports this after
   * sending them.
   */
  problem?: O365Error;
}

export interface ScheduleContext {
  configKey: string;
  mode: 'delegated' | 'application';
  graphEndpoint: string;
  signal?: AbortSignal;
  onWait?: (seconds: number, reason: string) => void;
}

function invalid(field: string, key: string, params: Record<string, string | number> = {}): O365Error {
  return new O365Error('INVALID_INPUT', t(`errors.schedule.${key}`, { field, ...params }), {
    code: 'INVALID_INPUT',
    field,
  });
}

function shortText(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

/** A checked SMTP address, or an error naming the field and the value. */
function address(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, 'notAddress', { value: typeof value });
  const trimmed = value.trim();
  if (trimmed.length > 320 || !MAILBOX_ADDRESS.test(trimmed) || /\p{Cc}/u.test(trimmed)) {
    throw invalid(field, 'badAddress', { value: shortText(trimmed) });
  }
  return trimmed;
}

/** Addresses from a list or a text (one per line, or separated by commas or semicolons), without repeats. */
export function parseMailboxes(value: unknown, field: string): string[] {
  const parts = Array.isArray(value) ? value : splitMailboxes(String(value ?? ''));
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of parts) {
    const mailbox = address(part, field);
    const key = mailbox.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(mailbox);
  }
  if (out.length > MAX_MAILBOXES) throw invalid(field, 'tooMany', { count: out.length, max: MAX_MAILBOXES });
  return out;
}

/** availabilityViewInterval: a whole number of minutes from 5 to 1440. */
export function parseInterval(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_INTERVAL;
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < MIN_INTERVAL || n > MAX_INTERVAL) {
    throw invalid('interval', 'interval', { value: shortText(String(value)) });
  }
  return n;
}

/** The mailboxes msg.payload chooses (with allowMsgMailbox): a list or a text of addresses; else undefined. */
function payloadMailboxes(payload: unknown): string[] | undefined {
  if (Array.isArray(payload)) return parseMailboxes(payload, 'payload');
  if (typeof payload === 'string' && payload.trim()) return parseMailboxes(payload, 'payload');
  // Anything else (an inject node's timestamp, an empty payload) leaves the node's own list.
  return undefined;
}

/**
 * The node's settings with what a message may override: msg.start/msg.end always, msg.payload's mailboxes only
 * when allowed. Everything is checked here, before any request.
 */
export function resolveScheduleRequest(
  settings: ScheduleSettings,
  msg: { payload?: unknown; start?: unknown; end?: unknown },
  context: { mode: 'delegated' | 'application'; graphEndpoint: string; now: number },
): ScheduleRequest {
  const user = settings.user.trim();
  if (context.mode === 'application' && !user) throw invalid('user', 'userRequired');
  const mailboxes =
    (settings.allowMsgMailbox ? payloadMailboxes(msg.payload) : undefined) ??
    parseMailboxes(settings.mailboxes, 'mailboxes');
  const roomList = settings.roomList.trim() ? address(settings.roomList, 'roomList') : '';
  const rooms = settings.allRooms || roomList !== '';
  if (!mailboxes.length && !rooms) throw invalid('mailboxes', 'noMailboxes');
  if (rooms) checkPlacesCloud(context.graphEndpoint, roomList ? 'roomList' : 'allRooms');
  const interval = parseInterval(settings.interval);
  const zone = resolveZone(settings.timezone);
  const window = resolveWindow(
    { start: settings.start, end: settings.end },
    { start: msg.start, end: msg.end },
    zone.iana,
    context.now,
  );
  if (window.end - window.start >= MAX_SPAN_DAYS * DAY_MS) {
    const days = Math.round(((window.end - window.start) / DAY_MS) * 100) / 100;
    throw new O365Error(
      'INVALID_WINDOW',
      t('errors.schedule.span', { days, max: MAX_SPAN_DAYS, start: window.startIso, end: window.endIso }),
      { code: 'INVALID_WINDOW', field: 'end' },
    );
  }
  return { user, mailboxes, rooms, roomList, window, interval, zone };
}

/** Runs `work` over `items` with at most `limit` at a time; results in the items' order. */
async function pooled<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < items.length) {
      const index = nextIndex++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Graph's dateTimeTimeZone for an instant: UTC, so no local time is ever ambiguous. */
function utcDateTime(ms: number): { dateTime: string; timeZone: string } {
  return { dateTime: new Date(ms).toISOString().slice(0, 23), timeZone: 'UTC' };
}

type Information = Record<string, unknown>;

/** One getSchedule call: the scheduleInformation of each address, in the order asked. */
async function getSchedule(
  graph: GraphClient,
  request: ScheduleRequest,
  batch: string[],
  context: ScheduleContext,
): Promise<Array<Information | undefined>> {
  const url = graph.url(`${mailboxPath(request.user)}/calendar/getSchedule`);
  const page = await graph.request(url, {
    method: 'POST',
    body: {
      schedules: batch,
      startTime: utcDateTime(request.window.start),
      endTime: utcDateTime(request.window.end),
      availabilityViewInterval: request.interval,
    },
    // getSchedule only reads: sending it twice is sending it once.
    idempotent: true,
    mailbox: mailboxKey(request.user, context.configKey),
    headers: { Prefer: `outlook.timezone="${request.zone.windows}"` },
    signal: context.signal,
    onWait: context.onWait,
  });
  const value = Array.isArray(page.body.value) ? page.body.value : [];
  const objects = value.filter((v): v is Information => !!v && typeof v === 'object');
  // Graph answers in the order asked; by scheduleId where the count differs (it may spell an address its way).
  if (objects.length === batch.length) return objects;
  const byId = new Map(objects.map((v) => [String(v.scheduleId ?? '').toLowerCase(), v]));
  return batch.map((mailbox) => byId.get(mailbox.toLowerCase()));
}

function statusOf(item: ScheduleItem): string {
  return typeof item.status === 'string' ? item.status.toLowerCase() : '';
}

function startMs(item: ScheduleItem): number {
  return item.start?.ms ?? NaN;
}

function endMs(item: ScheduleItem): number {
  return item.end?.ms ?? NaN;
}

/** An entry without free/busy: `busy` null (unknown), the reason in `error`. */
function unreadEntry(mailbox: string, name: string | null, error: ScheduleEntry['error']): ScheduleEntry {
  return {
    mailbox,
    name,
    busy: null,
    current: [],
    next: null,
    freeUntil: null,
    busyUntil: null,
    items: [],
    availabilityView: null,
    error,
  };
}

/**
 * One mailbox's entry from its scheduleInformation at `now`: busy/tentative/oof items count as busy; `current`
 * the busy items in progress, `next` the first busy item starting later, `busyUntil` the end of the block of
 * overlapping or touching busy items that runs through now, `freeUntil` next's start.
 */
export function scheduleEntry(
  mailbox: string,
  name: string | null,
  information: Information | undefined,
  now: number,
  zone: ResolvedZone,
): ScheduleEntry {
  const error = information?.error as { message?: unknown; responseCode?: unknown } | undefined;
  if (!information || (error && typeof error === 'object')) {
    return unreadEntry(mailbox, name, {
      code: typeof error?.responseCode === 'string' && error.responseCode ? error.responseCode : 'NO_ANSWER',
      message:
        typeof error?.message === 'string' && error.message
          ? error.message
          : t('errors.schedule.noAnswer', { mailbox }),
    });
  }
  const raw = Array.isArray(information.scheduleItems) ? information.scheduleItems : [];
  const items = raw
    .filter((item): item is Record<string, unknown> => !!item && typeof item === 'object')
    .map((item) => addInstants(item, zone) as ScheduleItem);
  const busyItems = items
    .filter((item) => BUSY.has(statusOf(item)) && endMs(item) >= startMs(item))
    .sort((a, b) => startMs(a) - startMs(b) || endMs(a) - endMs(b));
  const current = busyItems.filter((item) => startMs(item) <= now && now < endMs(item));
  const next = busyItems.find((item) => startMs(item) > now) ?? null;
  let busyUntil: string | null = null;
  if (current.length) {
    // Sorted by start, one pass extends the block by every item that starts before (or as) it ends. The block's
    // last item already carries its end as ISO in the node's zone.
    let last = current[0];
    for (const item of busyItems) {
      if (startMs(item) <= endMs(last) && endMs(item) > endMs(last)) last = item;
    }
    busyUntil = last.end?.iso ?? null;
  }
  return {
    mailbox,
    name,
    busy: current.length > 0,
    current,
    next,
    freeUntil: !current.length && next ? (next.start?.iso ?? null) : null,
    busyUntil,
    items,
    availabilityView: typeof information.availabilityView === 'string' ? information.availabilityView : null,
    error: null,
  };
}

/** The whole read: rooms (when asked), then getSchedule in batches; one entry per mailbox in order. */
export async function fetchSchedules(
  graph: GraphClient,
  request: ScheduleRequest,
  context: ScheduleContext,
  now: () => number,
): Promise<ScheduleResult> {
  let problem: O365Error | undefined;
  let rooms: Room[] = [];
  let placesRequests = 0;
  if (request.rooms) {
    try {
      const listing = await listRooms(graph, request.roomList, context);
      rooms = listing.items;
      placesRequests = listing.requests;
    } catch (err) {
      if (!(err instanceof O365Error) || err.code === 'ABORTED') throw err;
      // The typed mailboxes are still worth reading; without any there is nothing to send.
      if (!request.mailboxes.length) throw err;
      problem = err;
    }
  }
  const names = new Map(rooms.map((room) => [room.emailAddress.toLowerCase(), room.displayName]));
  const mailboxes = [...request.mailboxes];
  const typed = new Set(mailboxes.map((m) => m.toLowerCase()));
  for (const room of rooms)
    if (!typed.has(room.emailAddress.toLowerCase())) mailboxes.push(room.emailAddress);

  const batches: string[][] = [];
  for (let i = 0; i < mailboxes.length; i += MAX_SCHEDULES_PER_REQUEST) {
    batches.push(mailboxes.slice(i, i + MAX_SCHEDULES_PER_REQUEST));
  }
  const answers = await pooled(batches, SCHEDULE_CONCURRENCY, async (batch) => {
    try {
      return { infos: await getSchedule(graph, request, batch, context) };
    } catch (err) {
      if (!(err instanceof O365Error) || err.code === 'ABORTED') throw err;
      return { error: err };
    }
  });
  const failures = answers.filter((a) => a.error).map((a) => a.error as O365Error);
  if (failures.length && failures.length === answers.length) throw failures[0];
  problem ??= failures[0];

  const at = now();
  const entries: ScheduleEntry[] = [];
  batches.forEach((batch, b) => {
    const answer = answers[b];
    batch.forEach((mailbox, i) => {
      const name = names.get(mailbox.toLowerCase()) ?? null;
      entries.push(
        answer.error
          ? unreadEntry(mailbox, name, { code: answer.error.code, message: answer.error.message })
          : scheduleEntry(mailbox, name, answer.infos?.[i], at, request.zone),
      );
    });
  });
  return {
    entries,
    window: request.window,
    requests: { schedule: batches.length, places: placesRequests },
    allRooms: entries.length > 0 && entries.every((e) => names.has(e.mailbox.toLowerCase())),
    problem,
  };
}
