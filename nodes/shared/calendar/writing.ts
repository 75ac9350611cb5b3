// What o365-write sends, without Node-RED or I/O: the action, the target mailbox and event, and the body, checked
// and converted (short form or Graph's event shape) before any request, every error naming the field.
import crypto from 'crypto';
import { O365Error } from '../node-red/errors';
import { t } from '../node-red/i18n';
import { instantOf, stripInstants } from '../time/instants';
import { DAY_MS, firstInstantOfDate, formatYear, pad, zonedParts } from '../time/wall-clock';
import { parseWindowValue } from '../time/window';
import { resolveZone, ResolvedZone } from '../time/zones';
import { MessageInput, resolveMailbox } from './events-controller';

export const WRITE_ACTIONS = [
  'create',
  'update',
  'delete',
  'accept',
  'tentative',
  'decline',
  'cancel',
] as const;
export type WriteAction = (typeof WRITE_ACTIONS)[number];
export type ActionSetting = WriteAction | 'msg';

/** The answers to an invitation and Graph's action for each. */
export const ANSWER_ACTIONS: Partial<Record<WriteAction, string>> = {
  accept: 'accept',
  tentative: 'tentativelyAccept',
  decline: 'decline',
};

export interface WriteSettings {
  user: string;
  calendarId: string;
  action: ActionSetting;
  timezone: string;
  allowMsgMailbox: boolean;
}

/** One write, fully resolved and checked. */
export interface WritePlan {
  action: WriteAction;
  user: string;
  calendarId: string;
  zone: ResolvedZone;
  /** The event for everything but create. */
  eventId?: string;
  /** The JSON body: an event (create, update), {comment, sendResponse[, proposedNewTime]} (answers), {comment}. */
  body?: Record<string, unknown>;
  /** create: the transactionId in the body, and where the new event lies (to look it up after an unclear answer). */
  transactionId?: string;
  span?: { start: number; end: number };
  /** For the status: the subject written, when there is one. */
  subject?: string;
}

/** The short form's fields; everything else must be a property of Graph's event. */
const SHORT_FIELDS = new Set([
  'subject',
  'start',
  'end',
  'location',
  'attendees',
  'body',
  'isAllDay',
  'showAs',
  'categories',
]);

/** Properties of microsoft.graph.event (learn.microsoft.com/graph/api/resources/event), navigation included. */
const EVENT_PROPERTIES = new Set([
  'allowNewTimeProposals',
  'attendees',
  'body',
  'bodyPreview',
  'cancelledOccurrences',
  'categories',
  'changeKey',
  'createdDateTime',
  'end',
  'hasAttachments',
  'hideAttendees',
  'iCalUId',
  'id',
  'importance',
  'isAllDay',
  'isCancelled',
  'isDraft',
  'isOnlineMeeting',
  'isOrganizer',
  'isReminderOn',
  'lastModifiedDateTime',
  'location',
  'locations',
  'onlineMeeting',
  'onlineMeetingProvider',
  'onlineMeetingUrl',
  'organizer',
  'originalEndTimeZone',
  'originalStart',
  'originalStartTimeZone',
  'recurrence',
  'reminderMinutesBeforeStart',
  'responseRequested',
  'responseStatus',
  'sensitivity',
  'seriesMasterId',
  'showAs',
  'start',
  'subject',
  'transactionId',
  'type',
  'webLink',
  'attachments',
  'calendar',
  'exceptionOccurrences',
  'extensions',
  'instances',
  'multiValueExtendedProperties',
  'singleValueExtendedProperties',
]);

/**
 * Properties Graph sets itself: an event read by o365-events carries them, a write leaves them out. transactionId
 * too: the node sets its own on create, and Graph refuses a changed one on update.
 */
const READ_ONLY = new Set([
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'iCalUId',
  'bodyPreview',
  'type',
  'webLink',
  'seriesMasterId',
  'isOrganizer',
  'responseStatus',
  'originalStart',
  'onlineMeetingUrl',
  'hasAttachments',
  'onlineMeeting',
  'cancelledOccurrences',
  'isDraft',
  'transactionId',
]);

export const SHOW_AS = ['free', 'tentative', 'busy', 'oof', 'workingElsewhere', 'unknown'];

/** An SMTP address as Graph takes it: one @, a dot in the domain, no spaces or brackets. */
const ADDRESS = /^[^\s@<>()[\]",;:]+@[^\s@<>()[\]",;:]+\.[^\s@<>()[\]",;:]+$/;
const MAX_ID = 1024;
const MAX_TRANSACTION_ID = 255;
/** Graph's midnight: 'YYYY-MM-DDT00:00', with seconds and a fraction of zeros. */
const MIDNIGHT = /T00:00(:00(\.0+)?)?$/;

type Json = Record<string, unknown>;

function invalid(field: string, key: string, params: Record<string, string | number> = {}): O365Error {
  return new O365Error('INVALID_INPUT', t(`errors.write.${key}`, { field, ...params }), {
    code: 'INVALID_INPUT',
    field,
  });
}

function isObject(value: unknown): value is Json {
  return !!value && typeof value === 'object' && !Array.isArray(value) && !isDate(value);
}

function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function text(value: unknown, field: string, { max = 100_000 } = {}): string {
  if (typeof value !== 'string') throw invalid(field, 'notText', { type: describe(value) });
  if (value.length > max) throw invalid(field, 'tooLong', { max });
  return value;
}

function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(field, 'notBoolean', { type: describe(value) });
  return value;
}

/** The action: the node's, or with `msg` the message's. */
export function resolveAction(setting: string, msgAction: unknown): WriteAction {
  const value = setting === 'msg' ? msgAction : setting;
  if (typeof value === 'string' && (WRITE_ACTIONS as readonly string[]).includes(value)) {
    return value as WriteAction;
  }
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : describe(value);
  const key = setting === 'msg' ? 'unknownAction' : 'badNodeAction';
  throw invalid('action', key, { value: shown, actions: WRITE_ACTIONS.join(', ') });
}

/** The event id: msg.eventId, else payload.id. */
function eventIdOf(msg: MessageInput): string {
  const given = msg.eventId ?? (isObject(msg.payload) ? msg.payload.id : undefined);
  const field = msg.eventId !== undefined ? 'eventId' : 'payload.id';
  if (given === undefined || given === null || given === '') throw invalid('eventId', 'eventIdRequired');
  const id = text(given, field).trim();
  if (!id || id.length > MAX_ID || /\p{Cc}/u.test(id)) throw invalid(field, 'badEventId');
  return id;
}

// ---------------------------------------------------------------------------------------------------------------
// Times

/** Graph's local dateTime for an instant in a zone: 'YYYY-MM-DDThh:mm:ss[.sss]'. */
export function localDateTime(ms: number, zone: string): string {
  const p = zonedParts(ms, zone);
  const millis = p.millisecond ? `.${pad(p.millisecond, 3)}` : '';
  return (
    `${formatYear(p.year)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` +
    millis
  );
}

interface Time {
  /** Graph's dateTimeTimeZone. */
  value: Json;
  /** Its instant when known. */
  ms?: number;
}

/**
 * A start or end: Graph's {dateTime, timeZone} as given, or any form the window accepts (grammar, ISO, Date, epoch
 * ms) read in the node's zone and sent as dateTimeTimeZone in that zone. All-day values must be local midnights.
 */
function timeValue(
  value: unknown,
  field: string,
  edge: 'start' | 'end',
  zone: ResolvedZone,
  now: number,
  allDay: boolean,
): Time {
  if (isObject(value)) {
    const stripped = stripInstants({ [edge]: value })[edge] as Json;
    if (typeof stripped.dateTime !== 'string' || !stripped.dateTime) {
      throw invalid(`${field}.dateTime`, 'notText', { type: describe(stripped.dateTime) });
    }
    if (stripped.timeZone !== undefined && typeof stripped.timeZone !== 'string') {
      throw invalid(`${field}.timeZone`, 'notText', { type: describe(stripped.timeZone) });
    }
    if (allDay && !MIDNIGHT.test(stripped.dateTime))
      throw invalid(field, 'allDayMidnight', { value: stripped.dateTime });
    const ms = instantOf(stripped, zone);
    if (ms === undefined) throw invalid(`${field}.dateTime`, 'badDateTime', { value: stripped.dateTime });
    return { value: stripped, ms };
  }
  let ms: number;
  try {
    ms = parseWindowValue(value, edge, zone.iana, now);
  } catch (err) {
    if (!(err instanceof O365Error)) throw err;
    // The window's message starts with its own field name ("start: …"); name the payload's field instead.
    throw invalid(field, 'badTime', { detail: err.message.replace(/^(start|end): /, '') });
  }
  if (allDay) {
    const p = zonedParts(ms, zone.iana);
    if (ms !== firstInstantOfDate(p.year, p.month, p.day, zone.iana)) {
      throw invalid(field, 'allDayMidnight', { value: localDateTime(ms, zone.iana) });
    }
    const date = `${formatYear(p.year)}-${pad(p.month)}-${pad(p.day)}T00:00:00`;
    return { value: { dateTime: date, timeZone: zone.windows }, ms };
  }
  return { value: { dateTime: localDateTime(ms, zone.iana), timeZone: zone.windows }, ms };
}

/** The day after an all-day start: its default end. */
function nextDay(start: Time, zone: ResolvedZone): Time {
  const p = zonedParts(start.ms! + DAY_MS / 2, zone.iana);
  const ms = firstInstantOfDate(p.year, p.month, p.day + 1, zone.iana);
  const q = zonedParts(ms, zone.iana);
  return {
    value: {
      dateTime: `${formatYear(q.year)}-${pad(q.month)}-${pad(q.day)}T00:00:00`,
      timeZone: zone.windows,
    },
    ms,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The event body

function attendee(value: unknown, field: string): Json {
  if (typeof value === 'string') {
    const address = value.trim();
    if (!ADDRESS.test(address))
      throw invalid(field, 'badAddress', { value: JSON.stringify(value.slice(0, 80)) });
    return { emailAddress: { address }, type: 'required' };
  }
  if (isObject(value) && isObject(value.emailAddress)) {
    const address = value.emailAddress.address;
    if (typeof address !== 'string' || !ADDRESS.test(address.trim())) {
      throw invalid(`${field}.emailAddress.address`, 'badAddress', {
        value: typeof address === 'string' ? JSON.stringify(address.slice(0, 80)) : describe(address),
      });
    }
    return value;
  }
  throw invalid(field, 'badAttendee', { type: describe(value) });
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * The event to send from the short form or Graph's shape (mixed freely): short-form values converted, Graph's
 * passed through, the fields Graph sets itself and the instants this package adds left out.
 */
function eventBody(
  payload: unknown,
  action: 'create' | 'update',
  zone: ResolvedZone,
  now: number,
): { body: Json; span?: { start: number; end: number } } {
  if (!isObject(payload)) throw invalid('payload', 'payloadObject', { type: describe(payload) });
  const body: Json = {};
  const allDay = payload.isAllDay === true;
  for (const [name, value] of Object.entries(payload)) {
    const field = `payload.${name}`;
    if (name.startsWith('@') || READ_ONLY.has(name)) continue;
    if (!SHORT_FIELDS.has(name) && !EVENT_PROPERTIES.has(name))
      throw invalid(field, 'unknownField', { name });
    if (value === undefined) continue;
    switch (name) {
      case 'subject':
        body.subject = text(value, field, { max: 255 });
        break;
      case 'isAllDay':
        body.isAllDay = bool(value, field);
        break;
      case 'showAs':
        if (typeof value !== 'string' || !SHOW_AS.includes(value)) {
          throw invalid(field, 'badShowAs', {
            value: String(value).slice(0, 40),
            values: SHOW_AS.join(', '),
          });
        }
        body.showAs = value;
        break;
      case 'categories':
        body.categories = list(value).map((c, i) => text(c, `${field}[${i}]`, { max: 255 }));
        break;
      case 'location':
        if (typeof value === 'string') body.location = { displayName: value };
        else if (isObject(value) || value === null) body.location = value;
        else throw invalid(field, 'badLocation', { type: describe(value) });
        break;
      case 'body':
        if (typeof value === 'string') body.body = { contentType: 'text', content: value };
        else if (isObject(value) && typeof value.content === 'string') body.body = value;
        else throw invalid(field, 'badBody', { type: describe(value) });
        break;
      case 'attendees':
        body.attendees = list(value).map((a, i) => attendee(a, `${field}[${i}]`));
        break;
      case 'start':
      case 'end':
        break; // below, together
      default:
        body[name] = value;
    }
  }
  if (action === 'create') {
    if (typeof body.subject !== 'string' || !body.subject.trim())
      throw invalid('payload.subject', 'subjectRequired');
    if (payload.start === undefined || payload.start === null)
      throw invalid('payload.start', 'startRequired');
    if ((payload.end === undefined || payload.end === null) && !allDay)
      throw invalid('payload.end', 'endRequired');
  }
  const start =
    payload.start != null ? timeValue(payload.start, 'payload.start', 'start', zone, now, allDay) : undefined;
  let end = payload.end != null ? timeValue(payload.end, 'payload.end', 'end', zone, now, allDay) : undefined;
  if (!end && start && allDay && action === 'create') end = nextDay(start, zone);
  if (start) body.start = start.value;
  if (end) body.end = end.value;
  let span: { start: number; end: number } | undefined;
  if (start?.ms !== undefined && end?.ms !== undefined) {
    if (end.ms <= start.ms) {
      throw invalid('payload.end', 'endBeforeStart', {
        start: localDateTime(start.ms, zone.iana),
        end: localDateTime(end.ms, zone.iana),
      });
    }
    span = { start: start.ms, end: end.ms };
  }
  if (action === 'update' && Object.keys(body).length === 0) throw invalid('payload', 'nothingToUpdate');
  return { body, span };
}

// ---------------------------------------------------------------------------------------------------------------
// Answers and cancel

function answerBody(action: WriteAction, payload: unknown, zone: ResolvedZone, now: number): Json {
  // The payload may be the event itself (o365-events → write decline): only these fields are read from it.
  const p = isObject(payload) ? payload : {};
  const body: Json = {};
  if (p.comment !== undefined && p.comment !== null)
    body.comment = text(p.comment, 'payload.comment', { max: 10_000 });
  if (action === 'cancel') return body;
  body.sendResponse =
    p.sendResponse === undefined || p.sendResponse === null
      ? true
      : bool(p.sendResponse, 'payload.sendResponse');
  if (p.proposedNewTime !== undefined && p.proposedNewTime !== null) {
    if (action === 'accept') throw invalid('payload.proposedNewTime', 'proposeOnAccept');
    if (!body.sendResponse) throw invalid('payload.proposedNewTime', 'proposeWithoutResponse');
    const slot = p.proposedNewTime;
    if (!isObject(slot)) throw invalid('payload.proposedNewTime', 'payloadObject', { type: describe(slot) });
    const start = timeValue(slot.start, 'payload.proposedNewTime.start', 'start', zone, now, false);
    const end = timeValue(slot.end, 'payload.proposedNewTime.end', 'end', zone, now, false);
    if (end.ms! <= start.ms!) {
      throw invalid('payload.proposedNewTime.end', 'endBeforeStart', {
        start: localDateTime(start.ms!, zone.iana),
        end: localDateTime(end.ms!, zone.iana),
      });
    }
    body.proposedNewTime = { start: start.value, end: end.value };
  }
  return body;
}

// ---------------------------------------------------------------------------------------------------------------
// transactionId

/** JSON with object keys sorted, so equal payloads give equal text whatever order their keys were set in. */
function canonicalJson(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (isObject(v)) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canonical(v[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(canonical(value)) ?? 'undefined';
}

/** The ids of the msg.parts chain (split nodes give all parts one _msgid; their parts tell them apart). */
function partsOf(parts: unknown): unknown[] {
  const out: unknown[] = [];
  for (let p = parts, depth = 0; isObject(p) && depth < 10; p = p.parts, depth += 1)
    out.push([p.id, p.index]);
  return out;
}

/**
 * The create's transactionId: msg.transactionId when given, else derived from what makes a message this message:
 * its _msgid, the target mailbox and calendar, its parts and its payload as given. The same message sent again
 * (a Catch → retry loop) gets the same id; a new message, or one part of a split, gets its own.
 */
export function transactionIdFor(msg: MessageInput, user: string, calendarId: string): string {
  if (msg.transactionId !== undefined && msg.transactionId !== null) {
    const given = text(msg.transactionId, 'transactionId', { max: MAX_TRANSACTION_ID }).trim();
    if (!given || /\p{Cc}/u.test(given)) throw invalid('transactionId', 'badTransactionId');
    return given;
  }
  if (typeof msg._msgid !== 'string' || !msg._msgid) return crypto.randomUUID();
  let payload: string;
  try {
    payload = canonicalJson(msg.payload);
  } catch {
    throw invalid('payload', 'notJson');
  }
  const hex = crypto
    .createHash('sha256')
    .update(
      JSON.stringify(['o365-write', msg._msgid, user.toLowerCase(), calendarId, partsOf(msg.parts), payload]),
    )
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * The write a message asks for, checked completely before any request.
 * @throws O365Error INVALID_INPUT (or INVALID_TIMEZONE for the node's zone) naming the field.
 */
export function resolveWrite(
  settings: WriteSettings,
  msg: MessageInput,
  mode: 'delegated' | 'application',
  now: number,
): WritePlan {
  const action = resolveAction(settings.action, msg.action);
  const { user, calendarId } = resolveMailbox(settings, msg, mode);
  const zone = resolveZone(settings.timezone);
  const plan: WritePlan = { action, user, calendarId, zone };
  if (action === 'create' || action === 'update') {
    if (action === 'update') plan.eventId = eventIdOf(msg);
    const { body, span } = eventBody(msg.payload, action, zone, now);
    plan.body = body;
    plan.subject = typeof body.subject === 'string' ? body.subject : undefined;
    if (action === 'create') {
      plan.transactionId = transactionIdFor(msg, user, calendarId);
      body.transactionId = plan.transactionId;
      // All-day events are floating dates: look a day wider on each side.
      plan.span =
        body.isAllDay === true && span ? { start: span.start - DAY_MS, end: span.end + DAY_MS } : span;
    }
    return plan;
  }
  plan.eventId = eventIdOf(msg);
  if (action !== 'delete') plan.body = answerBody(action, msg.payload, zone, now);
  return plan;
}
