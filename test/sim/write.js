// The simulated Graph calendar writes: create (POST …/events, with transactionId), update (PATCH), delete, the
// answers accept / tentativelyAccept / decline, the organizer's cancel, and GET of one event by id.
//
// Behaviour as Microsoft documents it (learn.microsoft.com/graph/api/user-post-events, event-update, event-delete,
// event-accept, event-tentativelyaccept, event-decline, event-cancel, resources/event), errors included; where
// Microsoft documents only a status, the code and message are those seen in public issue threads ([observed]) or
// marked [assumed]:
// - 201 with the event (create), 200 with the event (update), 204 (delete), 202 without a body (answers, cancel).
// - A property the event type does not have → 400 RequestBodyRead [observed: msgraph-sdk-java#391]; read-only
//   properties it does have are ignored (the event-update example itself sends responseStatus).
// - An unknown time zone → 400 TimeZoneNotSupportedException [observed: microsoft-graph-docs#4758]; an end before
//   the start or an all-day event off midnight → 400 ErrorPropertyValidationFailure [observed: docs#7919].
// - A changed transactionId on update → 400 ErrorInvalidRequest "ClientId/TransactionId is immutable" [observed:
//   davmail#484].
// - cancel by an attendee → 400 "You need to be an organizer to cancel a meeting." (documented); it moves the event
//   to Deleted Items, so it leaves the calendar. proposedNewTime with sendResponse false → 400 (documented).
// - Permissions from the token: Calendars.ReadWrite (own calendars), Calendars.ReadWrite.Shared (another user's
//   calendar shared with the signed-in user while knobs.sharedCalendarsWritable), application role
//   Calendars.ReadWrite; else 403 ErrorAccessDenied.
// - transactionId: Microsoft documents only its purpose ("to avoid redundant POST operations in case of client
//   retries"). knobs.transactionIdReuse picks what a second POST with a used transactionId gets:
//   'replay' (default; observed in blog.rykoma.net 2020-10-05: the same request again → 201, no new event; and
//   alcionai/corso#2490: a *different* event with a used id → 400 ErrorDuplicateTransactionId), 'error' (always
//   400 ErrorDuplicateTransactionId) or 'ignore' (a second event: the purpose not honoured at all).
//
// Test hooks: faultAfterCommit({type, delayMs, times, match}) answers a write that *was applied* with a fault
// ('slow': the answer arrives after delayMs, past the client's timeout; '500' | '503' | '504'; 'reset'), which is
// how a client comes to retry a create that already happened. `sent` lists the mails a write would send.
'use strict';
const crypto = require('crypto');
const tz = require('./tz');
const { Model, parseLocalDateTime, parseIsoInstant } = require('./model');
const { renderEvent, EVENT_PROPERTY_NAMES } = require('./render');
const { GraphError, parsePrefer, segmentsOf } = require('./graph');

const ACTIONS = {
  accept: { response: 'accepted', params: ['comment', 'sendResponse'] },
  tentativelyaccept: {
    name: 'tentativelyAccept',
    response: 'tentativelyAccepted',
    params: ['comment', 'sendResponse', 'proposedNewTime'],
  },
  decline: { response: 'declined', params: ['comment', 'sendResponse', 'proposedNewTime'] },
  cancel: { params: ['comment'] },
};
for (const [key, action] of Object.entries(ACTIONS)) action.name = action.name || key;

// Properties of microsoft.graph.event a client cannot set; Graph ignores them in a body (it does not refuse them).
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
const AFTER_FAULTS = ['slow', '500', '503', '504', 'reset'];
const MIDNIGHT = /T00:00(:00(\.0+)?)?$/;

const badRequest = (code, message) => new GraphError(400, code, message);
const ACCESS_DENIED = () =>
  new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
const NOT_FOUND = () =>
  new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
const VALIDATION = () =>
  badRequest('ErrorPropertyValidationFailure', 'At least one property failed validation.');

/** A body's fingerprint, independent of key order: what "the same request again" means for transactionId. */
function fingerprint(value) {
  const canonical = (v) => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canonical(v[k])]),
      );
    }
    return v;
  };
  return crypto
    .createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

class Writes {
  constructor(core) {
    this.core = core;
    /** `<mailbox upn>|<transactionId>` → {itemId, calendarId, fingerprint}: transactionIds are per mailbox. */
    this.transactions = new Map();
    this.afterFaults = [];
    /** The mails the writes would have sent: {kind: 'invitation'|'response'|'cancellation', eventId, ...}. */
    this.sent = [];
    this.created = 0;
    if (core.knobs.transactionIdReuse === undefined) core.knobs.transactionIdReuse = 'replay';
    if (core.knobs.sharedCalendarsWritable === undefined) core.knobs.sharedCalendarsWritable = true;
  }

  /** Queues a fault for a write that was applied: {type, delayMs?, times = 1, match?, method?}. */
  faultAfterCommit(spec) {
    const fault = { times: 1, ...spec, type: String(spec.type) };
    if (!AFTER_FAULTS.includes(fault.type)) {
      throw new Error(`faultAfterCommit: type must be one of ${AFTER_FAULTS.join(', ')}`);
    }
    this.afterFaults.push(fault);
    return fault;
  }

  /** Whether the request is one of ours: every non-GET, and GET of a single event. */
  claims(method, rawPath) {
    if (method !== 'GET') return true;
    return /\/events\/[^/]+$/i.test(rawPath);
  }

  /**
   * Parses /v1.0/{me|users/{x}}/[calendar|calendars/{id}/]events[/{id}[/{action}]] into the route shape of
   * graph.js ({mailbox, target, rest}) with target.kind 'write'.
   */
  parseRoute(rawPath) {
    const seg = segmentsOf(rawPath);
    const fail = (s) => badRequest('BadRequest', `Resource not found for the segment '${s || ''}'.`);
    if (seg[0] !== 'v1.0') throw badRequest('BadRequest', `Invalid version: ${seg[0] || ''}`);
    let i;
    let mailbox;
    if ((seg[1] || '').toLowerCase() === 'me') {
      mailbox = 'me';
      i = 2;
    } else if ((seg[1] || '').toLowerCase() === 'users' && seg[2]) {
      mailbox = { key: seg[2] };
      i = 3;
    } else throw fail(seg[1]);
    const rest = seg.slice(i);
    let j = 0;
    let calendarId = null;
    let explicitCalendar = false;
    const first = (rest[0] || '').toLowerCase();
    if (first === 'calendar') {
      j = 1;
      explicitCalendar = true;
    } else if (first === 'calendars' && rest[1]) {
      calendarId = rest[1];
      explicitCalendar = true;
      j = 2;
    }
    if ((rest[j] || '').toLowerCase() !== 'events') throw fail(rest[j]);
    const eventId = rest[j + 1];
    const action = rest[j + 2];
    if (rest.length > j + 3 || eventId === '') throw fail(rest[j + 3]);
    return {
      mailbox,
      rest,
      target: { kind: 'write', calendarId, explicitCalendar, eventId, action },
    };
  }

  /** The answer {status, body?, headers?, after?} of an admitted request, or throws a GraphError. */
  answer(req, entry, route, token, user) {
    const { eventId, action } = route.target;
    const ctx = answerContext(req);
    const method = req.method;
    if (method === 'GET') return this.read(route, token, user, ctx, entry);
    if (entry.badJson)
      throw badRequest(
        'BadRequest',
        'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
      );
    this.checkWrite(token, user, route);
    let result;
    if (method === 'POST' && eventId === undefined) result = this.create(route, user, entry.json, ctx);
    else if (method === 'POST' && action !== undefined)
      result = this.act(route, user, eventId, action, entry.json);
    else if (method === 'PATCH' && action === undefined)
      result = this.update(route, user, eventId, entry.json, ctx);
    else if (method === 'DELETE' && action === undefined) result = this.remove(route, user, eventId);
    else {
      throw new GraphError(405, 'Request_BadRequest', `The simulator does not serve ${method} on this path.`);
    }
    result.after = this.takeAfterFault(entry);
    return result;
  }

  takeAfterFault(entry) {
    const i = this.afterFaults.findIndex(
      (f) =>
        f.times > 0 &&
        (f.method === undefined || f.method === entry.method) &&
        (f.match === undefined || entry.path.includes(f.match)),
    );
    if (i < 0) return undefined;
    const fault = this.afterFaults[i];
    fault.times -= 1;
    if (fault.times <= 0) this.afterFaults.splice(i, 1);
    this.core.stats.faultsInjected += 1;
    entry.fault = `after:${fault.type}`;
    return fault;
  }

  // ---- access ---------------------------------------------------------------------------------------------

  /** Write permission of the token on this mailbox (and, for a calendar in the path, that calendar). */
  checkWrite(token, user, route) {
    const knobs = this.core.knobs;
    if (token.kind === 'app') {
      if (!token.roles.includes('Calendars.ReadWrite')) throw ACCESS_DENIED();
      if (knobs.appAccess === 'rooms' && !user.isRoom) throw ACCESS_DENIED();
      return;
    }
    const own = user.upn.toLowerCase() === token.upn.toLowerCase();
    if (own) {
      if (
        !token.scopes.includes('Calendars.ReadWrite') &&
        !token.scopes.includes('Calendars.ReadWrite.Shared')
      ) {
        throw ACCESS_DENIED();
      }
      return;
    }
    if (!token.scopes.includes('Calendars.ReadWrite.Shared') || !knobs.sharedCalendarsWritable)
      throw ACCESS_DENIED();
    const calendar = this.core.model.calendar(user, route.target.calendarId);
    if (!calendar || !this.core.graph.sharedWith(calendar, token.upn)) throw ACCESS_DENIED();
  }

  calendarFor(route, user) {
    const calendar = this.core.model.calendar(user, route.target.calendarId);
    if (!calendar) throw NOT_FOUND();
    return calendar;
  }

  /** An event of this mailbox (and of the calendar in the path, when there is one): {item, day?}. */
  findEvent(route, user, eventId) {
    const found = this.core.model.find(user, eventId);
    if (!found) throw NOT_FOUND();
    if (route.target.explicitCalendar && found.item.calendar !== this.calendarFor(route, user))
      throw NOT_FOUND();
    return found;
  }

  // ---- bodies -----------------------------------------------------------------------------------------------

  /** Checks an event body as Graph reads it; returns the partial event the model understands. */
  eventBody(json, { create }) {
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw badRequest('BadRequest', 'Empty Payload. JSON content expected.');
    }
    const partial = {};
    for (const [name, value] of Object.entries(json)) {
      if (name.startsWith('@')) continue;
      if (EVENT_PROPERTY_NAMES.get(name.toLowerCase()) !== name && !WRITABLE_EXTRA.has(name)) {
        throw badRequest(
          'RequestBodyRead',
          `The property '${name}' does not exist on type 'Microsoft.OutlookServices.Event'. Make sure to only use ` +
            'property names that are defined by the type or mark the type as open type.',
        );
      }
      if (!READ_ONLY.has(name)) partial[name] = value;
    }
    for (const edge of ['start', 'end']) if (edge in partial) checkDateTime(partial[edge]);
    if (create && (!partial.start || !partial.end)) {
      // [assumed] Graph's wording for a create without times is not documented.
      throw badRequest(
        'ErrorInvalidRequest',
        "Your request can't be completed. An event needs a start and an end.",
      );
    }
    return partial;
  }

  // ---- the operations -----------------------------------------------------------------------------------------

  create(route, user, json, ctx) {
    const partial = this.eventBody(json, { create: true });
    const calendar = this.calendarFor(route, user);
    checkTimes(partial, undefined);
    const tid = typeof json.transactionId === 'string' && json.transactionId ? json.transactionId : undefined;
    const key = tid && `${user.upn.toLowerCase()}|${tid}`;
    const print = fingerprint(json);
    const previous = key && this.transactions.get(key);
    const existing = previous && this.core.model.items.get(previous.itemId);
    if (existing) {
      const mode = this.core.knobs.transactionIdReuse;
      const same = previous.calendarId === calendar.id && previous.fingerprint === print;
      if (mode === 'error' || (mode === 'replay' && !same)) {
        throw badRequest(
          'ErrorDuplicateTransactionId',
          "Your request can't be completed. The TransactionId specified in the request has already been used to create a different event.",
        );
      }
      if (mode === 'replay') return this.eventAnswer(201, user, { item: existing }, ctx);
    }
    const created = this.core.addEvent(user.upn, calendar.id, partial);
    const item = this.core.model.items.get(created.id);
    item.transactionId = tid;
    this.created += 1;
    if (key) this.transactions.set(key, { itemId: item.id, calendarId: calendar.id, fingerprint: print });
    if (item.attendees.length)
      this.sent.push({ kind: 'invitation', eventId: item.id, to: item.attendees.map((a) => a.address) });
    return this.eventAnswer(201, user, { item }, ctx);
  }

  update(route, user, eventId, json, ctx) {
    const found = this.findEvent(route, user, eventId);
    const partial = this.eventBody(json, { create: false });
    if ('transactionId' in json && json.transactionId !== (found.item.transactionId || null)) {
      throw badRequest(
        'ErrorInvalidRequest',
        "Your request can't be completed. ClientId/TransactionId is immutable and cannot be updated.",
      );
    }
    checkTimes(partial, found);
    this.core.updateEvent(user.upn, eventId, partial);
    return this.eventAnswer(200, user, found, ctx);
  }

  remove(route, user, eventId) {
    this.findEvent(route, user, eventId);
    this.core.removeEvent(user.upn, eventId);
    return { status: 204 };
  }

  act(route, user, eventId, actionName, json) {
    const action = ACTIONS[String(actionName).toLowerCase()];
    if (!action) throw badRequest('BadRequest', `Resource not found for the segment '${actionName}'.`);
    const params = json === undefined ? {} : json;
    if (!params || typeof params !== 'object' || Array.isArray(params)) {
      throw badRequest('BadRequest', 'Empty Payload. JSON content expected.');
    }
    for (const name of Object.keys(params)) {
      if (!action.params.includes(name)) {
        // [assumed] wording of Graph's answer to an unknown action parameter.
        throw badRequest(
          'RequestBodyRead',
          `The parameter '${name}' in the request payload is not a valid parameter for the operation '${action.name}'.`,
        );
      }
    }
    if (params.comment !== undefined && typeof params.comment !== 'string') {
      throw badRequest('RequestBodyRead', "Cannot convert the literal to the expected type 'Edm.String'.");
    }
    if (params.sendResponse !== undefined && typeof params.sendResponse !== 'boolean') {
      throw badRequest('RequestBodyRead', "Cannot convert the literal to the expected type 'Edm.Boolean'.");
    }
    const sendResponse = params.sendResponse !== false;
    if (params.proposedNewTime !== undefined) {
      // Documented: proposedNewTime needs sendResponse true (and an event that allows proposals; all do here).
      if (!sendResponse)
        throw badRequest(
          'ErrorInvalidRequest',
          "Your request can't be completed. A new time can only be proposed in a response that is sent.",
        );
      const slot = params.proposedNewTime;
      if (!slot || typeof slot !== 'object') throw VALIDATION();
      checkDateTime(slot.start);
      checkDateTime(slot.end);
      if (instantOf(slot.end) <= instantOf(slot.start)) throw VALIDATION();
    }
    const found = this.findEvent(route, user, eventId);
    const { item } = found;
    if (action.name === 'cancel') {
      if (!item.isOrganizer) {
        throw badRequest(
          'ErrorInvalidRequest',
          "Your request can't be completed. You need to be an organizer to cancel a meeting.",
        );
      }
      this.sent.push({
        kind: 'cancellation',
        eventId,
        comment: params.comment,
        to: item.attendees.map((a) => a.address),
      });
      this.core.removeEvent(user.upn, eventId);
      return { status: 202 };
    }
    if (item.isOrganizer) {
      // [assumed] Graph's answer when the organizer responds to their own meeting is not documented.
      throw badRequest(
        'ErrorInvalidRequest',
        "Your request can't be completed. You can't respond to a meeting you organized.",
      );
    }
    // The model keeps one response per item: an answer to an occurrence answers the series here.
    item.response = action.response;
    item.changeKey = Model.nextChangeKey(item.changeKey, this.core.now());
    item.lastModifiedMs = this.core.now();
    this.core.model.touch(item.calendar);
    if (sendResponse) {
      this.sent.push({
        kind: 'response',
        eventId,
        response: action.response,
        comment: params.comment,
        proposedNewTime: params.proposedNewTime,
        to: [item.organizer.address],
      });
    }
    return { status: 202 };
  }

  read(route, token, user, ctx, entry) {
    const found = this.findEvent(route, user, route.target.eventId);
    this.core.graph.checkAccess(token, user, found.item.calendar);
    const q = new URLSearchParams(entry.rawQuery);
    const select = this.core.graph.select(
      { $select: q.get('$select') ?? undefined },
      EVENT_PROPERTY_NAMES,
      'microsoft.graph.event',
    );
    return this.eventAnswer(200, user, found, ctx, select);
  }

  /** The event as Graph answers a write: rendered in the Prefer zone, with its transactionId when one was set. */
  eventAnswer(status, user, found, ctx, select) {
    const { item, day } = found;
    const inst =
      day === undefined
        ? Model.itemInstance(item, ctx.zone.iana)
        : this.core.model.seriesInstance(item, day, ctx.zone.iana);
    const body = {
      '@odata.context': `${this.core.url}/v1.0/$metadata#users('${encodeURIComponent(user.id)}')/events/$entity`,
      ...renderEvent(inst, ctx, select),
    };
    return { status, body, headers: ctx.headers };
  }
}

// Writable properties of microsoft.graph.event that the simulator's renderer does not produce.
const WRITABLE_EXTRA = new Set([
  'locations',
  'hideAttendees',
  'allowNewTimeProposals',
  'onlineMeetingProvider',
  'isOnlineMeeting',
]);

/** The zone of the answer's times (Prefer: outlook.timezone, else UTC) and the Preference-Applied header. */
function answerContext(req) {
  const prefer = parsePrefer(req.headers.prefer);
  const zone = tz.preferredZone(prefer.timeZone);
  return {
    zone: zone || { name: 'UTC', iana: 'UTC' },
    textBody: prefer.bodyType === 'text',
    headers: zone ? { 'Preference-Applied': `outlook.timezone="${prefer.timeZone}"` } : {},
  };
}

/** A dateTimeTimeZone as Graph checks it: a readable dateTime and a zone Graph knows. */
function checkDateTime(value) {
  if (!value || typeof value !== 'object' || typeof value.dateTime !== 'string') throw VALIDATION();
  const zone = value.timeZone === undefined ? 'UTC' : value.timeZone;
  if (!tz.preferredZone(String(zone))) {
    throw badRequest(
      'TimeZoneNotSupportedException',
      `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${zone}'.`,
    );
  }
  if (instantOf(value) === undefined) throw VALIDATION();
}

/** The instant of a dateTimeTimeZone (an offset in the text wins, as Graph does). */
function instantOf(value) {
  const text = String(value.dateTime);
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
    const ms = parseIsoInstant(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  const wall = parseLocalDateTime(text);
  if (wall === undefined) return undefined;
  return tz.fromWall(wall, tz.preferredZone(String(value.timeZone || 'UTC')).iana);
}

/** The end after the start; all-day events on midnights (checked with the stored values where the body has none). */
function checkTimes(partial, found) {
  const item = found && found.item;
  const allDay = 'isAllDay' in partial ? !!partial.isAllDay : !!(item && item.isAllDay);
  if (allDay) {
    for (const edge of ['start', 'end']) {
      if (partial[edge] && !MIDNIGHT.test(String(partial[edge].dateTime))) throw VALIDATION();
    }
  }
  // One end alone keeps the event's length (the model's rule); both must be in order.
  if (!partial.start || !partial.end) return;
  const start = instantOf(partial.start);
  const end = instantOf(partial.end);
  if (allDay ? end <= start : end < start) throw VALIDATION();
}

module.exports = { Writes };
