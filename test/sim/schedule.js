// The simulated free/busy and places API: POST …/calendar/getSchedule and GET /places/… as Microsoft documents
// them, with a few hundred seeded rooms in the tenant.
//
// getSchedule (learn.microsoft.com/graph/api/calendar-getschedule, …/graph/outlook-get-free-busy-schedule,
// …/graph/api/resources/scheduleinformation, …/graph/api/resources/freebusyerror, …/resources/scheduleitem):
// - POST /v1.0/me/calendar/getSchedule or /v1.0/users/{id|upn}/calendar/getSchedule, JSON body
//   {schedules, startTime, endTime, availabilityViewInterval} with dateTimeTimeZone times; Calendars.Read (any
//   Calendars.* permission here), delegated or application (/me only delegated).
// - At most 20 schedules per call: above, 400 ErrorMailboxDataArrayTooBig [wording observed in
//   microsoft-graph-docs-contrib#5895, where the service allowed 100; the documented limit is 20 and is what the
//   simulator enforces]. The span must be under 62 days: else 400 ErrorTimeIntervalTooBig [wording observed in
//   microsoft-graph-docs#19703]. availabilityViewInterval 5–1440 minutes, default 30: else 400
//   ErrorInvalidParameter [the code is the simulator's choice; Microsoft documents only the range].
// - The answer: one scheduleInformation per requested address, in the order asked:
//   {scheduleId, availabilityView, scheduleItems, workingHours}; availabilityView one digit per slot of the
//   interval from the start (0 free, 1 tentative, 2 busy, 3 oof, 4 working elsewhere; the strongest status of the
//   slot wins), derived from the mailbox's default calendar; scheduleItems {isPrivate, status, subject, location,
//   start, end} with subject, location and isPrivate only where the calendar is shared with the caller;
//   cancelled events leave no trace. An address that resolves to no mailbox gets only
//   {scheduleId, error: {message, responseCode}} [shape and wording observed in microsoft-graph-docs#11225];
//   the others still answer. Times in the Prefer: outlook.timezone zone, else UTC.
// Places (learn.microsoft.com/graph/api/place-list): GET /v1.0/places/microsoft.graph.room,
// /v1.0/places/microsoft.graph.roomlist, /v1.0/places/{roomListEmail}/microsoft.graph.roomlist/rooms; Place.Read.All
// (delegated scope, or for app tokens knobs.appPlaceReadAll: the simulated registration's roles hold only
// Calendars.Read) else 403 ErrorAccessDenied; pages of 100 by default ($top, $skip, @odata.nextLink, $select);
// rooms hidden from the address list are not listed; an unknown room list is 404 ErrorItemNotFound [simulator's
// choice].
'use strict';
const tz = require('./tz');
const { randomSource, hash32 } = require('./model');
const { renderEvent } = require('./render');
const { sendJson, guid } = require('./http');
const { GraphError } = require('./graph');

const { DAY, MINUTE } = tz;
const MAX_SCHEDULES = 20;
const MAX_SPAN_DAYS = 62;
const DEFAULT_ROOM_COUNT = 300;
const BUILDINGS = 6;
const STATUS_DIGIT = { free: '0', tentative: '1', busy: '2', oof: '3', workingElsewhere: '4' };
// Which status a slot shows when several items overlap it: the strongest.
const STATUS_RANK = { free: 0, workingElsewhere: 1, tentative: 2, busy: 3, oof: 4 };
const ITEM_FIELDS = new Set(['subject', 'start', 'end', 'showAs', 'sensitivity', 'isCancelled', 'location']);
const ROOM_FIELDS = [
  'id',
  'emailAddress',
  'displayName',
  'address',
  'geoCoordinates',
  'phone',
  'nickname',
  'label',
  'capacity',
  'building',
  'floorNumber',
  'isManaged',
  'isWheelchairAccessible',
  'bookingType',
  'tags',
  'audioDeviceName',
  'videoDeviceName',
  'displayDevice',
];
const ROOM_LIST_FIELDS = ['id', 'displayName', 'address', 'geoCoordinates', 'phone', 'emailAddress'];
const byLower = (names) => new Map(names.map((n) => [n.toLowerCase(), n]));
const ROOM_NAMES = byLower(ROOM_FIELDS);
const ROOM_LIST_NAMES = byLower(ROOM_LIST_FIELDS);
const ACCESS_DENIED = 'Access is denied. Check credentials and try again.';
const SUBJECTS = ['Team meeting', 'Interview', 'Workshop', 'Customer visit', 'Planning', '1:1', 'Training'];

/** A GUID-like id from text, upper case as the places API writes them. */
function placeId(text) {
  const h = (hash32(`a${text}`) >>> 0).toString(16).padStart(8, '0');
  const t = (hash32(`b${text}`) >>> 0).toString(16).padStart(8, '0');
  const u = (hash32(`c${text}`) >>> 0).toString(16).padStart(8, '0');
  return `${h}-${t.slice(0, 4)}-${t.slice(4)}-${u.slice(0, 4)}-${u.slice(4)}${h.slice(0, 4)}`.toUpperCase();
}

function address(building) {
  return {
    street: `${100 + building} Main Street`,
    city: 'Redmond',
    state: 'WA',
    postalCode: '98052',
    countryOrRegion: 'USA',
  };
}

class Schedule {
  constructor(core, options = {}) {
    this.core = core;
    this.roomCount = options.roomCount === undefined ? DEFAULT_ROOM_COUNT : Number(options.roomCount);
    if (core.knobs.appPlaceReadAll === undefined) core.knobs.appPlaceReadAll = false;
    this.stats = { getSchedule: 0, places: 0, inFlight: 0, maxInFlight: 0, batchSizes: [] };
    this.roomLists = [];
    this.places = [];
    this.seedRooms();
  }

  resetStats() {
    Object.assign(this.stats, {
      getSchedule: 0,
      places: 0,
      maxInFlight: this.stats.inFlight,
      batchSizes: [],
    });
  }

  // ---- data ---------------------------------------------------------------------------------------------------

  /**
   * The tenant's rooms: the two seeded room mailboxes, then `roomCount` more spread over six buildings (one room
   * list each), and one room hidden from the address list. Each new room's calendar holds bookings from a day
   * before the anchor to two days after it, round the clock, some touching, some overlapping, a few tentative or
   * out of office.
   */
  seedRooms() {
    const core = this.core;
    const model = core.model;
    const calendarOf = model.calendar.bind(model);
    model.calendar = (user, id) => {
      const calendar = calendarOf(user, id);
      if (calendar && calendar.fill) {
        const fill = calendar.fill;
        calendar.fill = undefined;
        fill();
      }
      return calendar;
    };
    const domain = core.tenantDomain;
    for (let b = 1; b <= BUILDINGS; b++) {
      const upn = `building${b}@${domain}`;
      this.roomLists.push({ id: placeId(upn), emailAddress: upn, displayName: `Building ${b}`, building: b });
    }
    const add = (user, b, floor, capacity) =>
      this.places.push({ user, building: b, floor, capacity, hidden: false, list: this.roomLists[b - 1] });
    add(core.users.room101, 1, 1, 8);
    add(core.users.room202, 2, 2, 12);
    const anchorDay = Math.floor(core.anchor / DAY);
    for (let i = 0; i < this.roomCount; i++) {
      const b = (i % BUILDINGS) + 1;
      const floor = Math.floor(i / BUILDINGS) % 8;
      const n = Math.floor(i / (BUILDINGS * 8)) + 1;
      const local = `room.b${b}-${floor}${String(n).padStart(2, '0')}`;
      const random = randomSource((core.seed ^ hash32(local)) >>> 0);
      const user = model.addUser({
        id: random.guid(),
        upn: `${local}@${domain}`,
        displayName: `Room ${b}.${floor}${String(n).padStart(2, '0')}`,
        isRoom: true,
      });
      const calendar = model.addCalendar(user, {
        id: Buffer.from(`cal|${user.upn}`).toString('base64'),
        name: 'Calendar',
        isDefault: true,
      });
      // Booked on first use: seeding a few hundred calendars at every start would slow every test down.
      calendar.fill = () => this.book(calendar, random, (anchorDay - 1) * DAY, (anchorDay + 2) * DAY);
      add(user, b, floor, random.pick([4, 6, 8, 10, 12, 20]));
    }
    const hiddenUpn = `room.hidden@${domain}`;
    const hidden = model.addUser({
      id: placeId(hiddenUpn).toLowerCase(),
      upn: hiddenUpn,
      displayName: 'Boardroom',
      isRoom: true,
    });
    model.addCalendar(hidden, {
      id: Buffer.from(`cal|${hiddenUpn}`).toString('base64'),
      name: 'Calendar',
      isDefault: true,
    });
    this.places.push({
      user: hidden,
      building: 1,
      floor: 9,
      capacity: 30,
      hidden: true,
      list: this.roomLists[0],
    });
  }

  /** Bookings from `from` to `to`: meetings of 30–120 min with gaps of 0–3 h, a few overlapping a neighbour. */
  book(calendar, random, from, to) {
    const room = calendar.owner;
    let at = from + random.int(0, 12) * 15 * MINUTE;
    const specs = [];
    while (at < to) {
      const length = random.pick([30, 30, 45, 60, 60, 90, 120]) * MINUTE;
      const roll = random.next();
      specs.push({
        subject: random.pick(SUBJECTS),
        startTz: 'W. Europe Standard Time',
        startMs: at,
        endMs: at + length,
        showAs: roll < 0.1 ? 'tentative' : roll < 0.13 ? 'oof' : 'busy',
        sensitivity: random.chance(0.1) ? 'private' : 'normal',
        location: { displayName: room.displayName, locationType: 'conferenceRoom', locationUri: room.upn },
        organizer: { name: 'Adele Vance', address: `adele@${this.core.tenantDomain}` },
        isOrganizer: false,
        response: 'accepted',
        createdMs: from - 7 * DAY,
      });
      // Now and then a second booking that overlaps this one (double-booked rooms exist).
      if (random.chance(0.08)) {
        specs.push({
          ...specs[specs.length - 1],
          subject: 'Overlapping booking',
          startMs: at + length / 2,
          endMs: at + length + 30 * MINUTE,
        });
      }
      at += length + random.pick([0, 0, 15, 30, 60, 90, 120, 180]) * MINUTE;
    }
    for (const spec of specs) this.core.model.insert(calendar, spec, random);
  }

  /** The rooms as the places API lists them (hidden ones left out), optionally of one room list. */
  rooms({ roomList } = {}) {
    const list = roomList ? this.roomListByEmail(roomList) : undefined;
    if (roomList && !list) return undefined;
    return this.places.filter((p) => !p.hidden && (!list || p.list === list)).map((p) => this.renderRoom(p));
  }

  roomListByEmail(email) {
    const key = String(email).toLowerCase();
    return this.roomLists.find((l) => l.emailAddress.toLowerCase() === key);
  }

  renderRoom(place) {
    const upn = place.user.upn;
    return {
      id: placeId(upn),
      emailAddress: upn,
      displayName: place.user.displayName,
      address: address(place.building),
      geoCoordinates: { latitude: 47.64 + place.building / 1000, longitude: -122.13 },
      phone: null,
      nickname: place.user.displayName,
      label: place.user.displayName.replace(/^Room /, ''),
      capacity: place.capacity,
      building: String(place.building),
      floorNumber: place.floor,
      isManaged: true,
      isWheelchairAccessible: place.floor === 0,
      bookingType: 'standard',
      tags: place.capacity >= 10 ? ['video'] : [],
      audioDeviceName: null,
      videoDeviceName: place.capacity >= 10 ? 'Teams Room' : null,
      displayDevice: place.capacity >= 10 ? 'surface hub' : null,
    };
  }

  renderRoomList(list) {
    return {
      id: list.id,
      displayName: list.displayName,
      address: address(list.building),
      geoCoordinates: null,
      phone: null,
      emailAddress: list.emailAddress,
    };
  }

  // ---- HTTP ---------------------------------------------------------------------------------------------------

  /** True for the requests this module answers (the router asks before handing a request to graph.js). */
  owns(entry) {
    const path = entry.path.toLowerCase();
    return (
      /^\/v1\.0\/places(\/|$)/.test(path) || /^\/v1\.0\/(me|users\/[^/]+)\/calendar\/getschedule$/.test(path)
    );
  }

  async handle(req, res, entry, fault) {
    const graph = this.core.graph;
    const ids = { requestId: guid(), clientRequestId: req.headers['client-request-id'] || guid() };
    res.setHeader('request-id', ids.requestId);
    res.setHeader('client-request-id', ids.clientRequestId);
    if (fault && fault.type !== 'slow' && fault.type !== 'brokenJson') {
      graph.sendFault(res, ids, fault);
      return;
    }
    if (fault && fault.type === 'brokenJson') res.simBrokenJson = true;
    const places = /^\/v1\.0\/places/i.test(entry.path);
    let admitted;
    let counted = false;
    try {
      const token = graph.authenticate(req);
      const latency =
        (Number(this.core.knobs.graphLatencyMs) || 0) +
        (fault && fault.type === 'slow' ? Number(fault.delayMs) || 0 : 0);
      if (places) {
        if (req.method !== 'GET')
          throw new GraphError(
            405,
            'Request_BadRequest',
            `The places API is read here with GET, not ${req.method}.`,
          );
        this.stats.places += 1;
        if (latency > 0) await this.core.delay(latency);
        const { body } = this.placesAnswer(entry, token);
        if (!res.destroyed) sendJson(res, 200, body);
        return;
      }
      if (req.method !== 'POST')
        throw new GraphError(405, 'Request_BadRequest', `getSchedule is an action: POST, not ${req.method}.`);
      const owner = this.caller(entry, token);
      if (!graph.admit(owner.upn)) {
        throw new GraphError(
          429,
          'ApplicationThrottled',
          'Application is over its MailboxConcurrency limit.',
          {
            'Retry-After': String(this.core.knobs.concurrencyRetryAfter),
          },
        );
      }
      admitted = owner.upn;
      if (res.simClosed) graph.release(admitted);
      else res.once('close', () => graph.release(admitted));
      this.stats.getSchedule += 1;
      this.stats.inFlight += 1;
      counted = true;
      this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.stats.inFlight);
      if (latency > 0) await this.core.delay(latency);
      const body = this.scheduleAnswer(req, entry, token);
      if (!res.destroyed) sendJson(res, 200, body, body.headers);
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      if (!res.destroyed) graph.sendError(res, ids, err);
    } finally {
      if (counted) this.stats.inFlight -= 1;
    }
  }

  /** The mailbox whose getSchedule is called, with the checks Graph makes first. */
  caller(entry, token) {
    const seg = entry.path.split('/');
    const me = seg[2].toLowerCase() === 'me';
    if (me && token.kind === 'app') {
      throw new GraphError(
        400,
        'BadRequest',
        '/me request is only valid with delegated authentication flow.',
      );
    }
    const user = this.core.model.user(me ? token.upn : seg[3]);
    if (!user) throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${seg[3]}' is invalid.`);
    const granted = token.kind === 'app' ? token.roles : token.scopes;
    if (!granted.some((s) => s.startsWith('Calendars.')))
      throw new GraphError(403, 'ErrorAccessDenied', ACCESS_DENIED);
    return user;
  }

  // ---- getSchedule --------------------------------------------------------------------------------------------

  scheduleAnswer(req, entry, token) {
    let body;
    try {
      body = JSON.parse(entry.rawBody ? entry.rawBody.toString('utf8') : '');
    } catch {
      throw new GraphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
    }
    if (!body || typeof body !== 'object')
      throw new GraphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
    // Graph reads the parameters without regard to case (its own concept page writes "Schedules", "StartTime").
    const param = (name) => {
      const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
      return key === undefined ? undefined : body[key];
    };
    const schedules = param('schedules');
    if (!Array.isArray(schedules) || schedules.length === 0 || schedules.some((s) => typeof s !== 'string')) {
      throw new GraphError(
        400,
        'ErrorInvalidParameter',
        "The parameter 'Schedules' is missing or is not a list of SMTP addresses.",
      );
    }
    if (schedules.length > MAX_SCHEDULES) {
      throw new GraphError(
        400,
        'ErrorMailboxDataArrayTooBig',
        `There are too many target users in the EmailAddress array. The allowed size = ${MAX_SCHEDULES}; the actual size = ${schedules.length}.`,
      );
    }
    const start = this.instant(param('startTime'), 'StartTime');
    const end = this.instant(param('endTime'), 'EndTime');
    if (!(end > start))
      throw new GraphError(400, 'ErrorInvalidParameter', 'The EndTime must be after the StartTime.');
    if (end - start >= MAX_SPAN_DAYS * DAY) {
      throw new GraphError(
        400,
        'ErrorTimeIntervalTooBig',
        `The requested time duration specified for FreeBusyViewOptions.TimeWindow is too long. The allowed limit = ${MAX_SPAN_DAYS} days; the actual limit = ${Math.ceil((end - start) / DAY)} days.`,
      );
    }
    let interval = param('availabilityViewInterval');
    if (interval === undefined) interval = 30;
    interval = typeof interval === 'string' && /^\d+$/.test(interval) ? Number(interval) : interval;
    if (!Number.isInteger(interval) || interval < 5 || interval > 1440) {
      throw new GraphError(
        400,
        'ErrorInvalidParameter',
        `The value '${interval}' of parameter 'AvailabilityViewInterval' is out of range: it must be between 5 and 1440 minutes.`,
      );
    }
    const prefer = /outlook\.timezone\s*=\s*(?:"([^"]*)"|([^,;\s]+))/i.exec(String(req.headers.prefer || ''));
    const zone = (prefer && tz.preferredZone(prefer[1] !== undefined ? prefer[1] : prefer[2])) || {
      name: 'UTC',
      iana: 'UTC',
    };
    const viewer = token.kind === 'delegated' ? token.upn : undefined;
    const value = schedules.map((scheduleId) =>
      this.information(scheduleId, { start, end, interval, zone, viewer }),
    );
    return {
      '@odata.context': `${this.core.url}/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)`,
      value,
    };
  }

  /** A dateTimeTimeZone parameter as an instant; its zone may be a Windows or an IANA name. */
  instant(value, name) {
    const bad = () =>
      new GraphError(
        400,
        'ErrorInvalidParameter',
        `The parameter '${name}' is missing or is not a valid dateTimeTimeZone.`,
      );
    if (!value || typeof value !== 'object' || typeof value.dateTime !== 'string') throw bad();
    const iana = tz.ianaOf(value.timeZone || 'UTC');
    if (!iana)
      throw new GraphError(
        400,
        'ErrorInvalidParameter',
        `The time zone '${value.timeZone}' of '${name}' is not supported.`,
      );
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/.exec(value.dateTime);
    if (!m) throw bad();
    const wall = Date.UTC(
      +m[1],
      +m[2] - 1,
      +m[3],
      +m[4],
      +m[5],
      +(m[6] || 0),
      m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0,
    );
    return tz.fromWall(wall, iana);
  }

  /** One scheduleInformation: the free/busy of one address over [start, end), or its error. */
  information(scheduleId, { start, end, interval, zone, viewer }) {
    const user = this.core.model.user(scheduleId);
    const calendar = user && this.core.model.calendar(user, null);
    if (!calendar) {
      return {
        scheduleId,
        error: {
          message: `Unable to resolve e-mail address ${scheduleId} to an Active Directory object.`,
          responseCode: '5009',
        },
      };
    }
    const details = viewer !== undefined && this.core.graph.sharedWith(calendar, viewer);
    const ctx = { zone, textBody: true };
    const items = [];
    const blocks = [];
    for (const inst of this.core.model.view(calendar, start, end, zone.iana)) {
      const event = renderEvent(inst, ctx, ITEM_FIELDS);
      if (event.isCancelled) continue;
      const status = STATUS_DIGIT[event.showAs] !== undefined ? event.showAs : 'busy';
      const item = { isPrivate: event.sensitivity === 'private', status };
      if (details && !item.isPrivate) {
        item.subject = event.subject;
        item.location = event.location ? event.location.displayName : '';
      }
      if (!details) delete item.isPrivate;
      item.start = event.start;
      item.end = event.end;
      items.push(item);
      blocks.push({ from: inst.startMs, to: inst.endMs, status });
    }
    return {
      scheduleId,
      availabilityView: availabilityView(blocks, start, end, interval),
      scheduleItems: items,
      workingHours: {
        daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
        startTime: '08:00:00.0000000',
        endTime: '17:00:00.0000000',
        timeZone: { name: 'W. Europe Standard Time' },
      },
    };
  }

  // ---- places -------------------------------------------------------------------------------------------------

  placesAnswer(entry, token) {
    const granted =
      token.kind === 'app'
        ? this.core.knobs.appPlaceReadAll
          ? ['Place.Read.All']
          : token.roles
        : token.scopes;
    if (!granted.includes('Place.Read.All')) throw new GraphError(403, 'ErrorAccessDenied', ACCESS_DENIED);
    const seg = entry.path.split('/').slice(3);
    const lower = seg.map((s) => s.toLowerCase());
    const q = {};
    for (const [k, v] of new URLSearchParams(entry.rawQuery))
      if (!(k.toLowerCase() in q)) q[k.toLowerCase()] = v;
    if (q.$top === undefined) q.$top = '100'; // the places API's documented default page size
    if (q.$filter !== undefined || q.$search !== undefined)
      throw new GraphError(400, 'BadRequest', 'The simulator does not support $filter or $search on places.');
    const base = `${this.core.url}/v1.0/$metadata#places`;
    const graph = this.core.graph;
    if (seg.length === 1 && lower[0] === 'microsoft.graph.room') {
      const select = graph.select(q, ROOM_NAMES, 'microsoft.graph.room');
      return graph.page(
        entry,
        q,
        this.rooms(),
        (r) => pick(r, select),
        `${base}/microsoft.graph.room`,
        select,
      );
    }
    if (seg.length === 1 && lower[0] === 'microsoft.graph.roomlist') {
      const select = graph.select(q, ROOM_LIST_NAMES, 'microsoft.graph.roomList');
      const lists = this.roomLists.map((l) => this.renderRoomList(l));
      return graph.page(entry, q, lists, (r) => pick(r, select), `${base}/microsoft.graph.roomList`, select);
    }
    if (seg.length === 3 && lower[1] === 'microsoft.graph.roomlist' && lower[2] === 'rooms') {
      const rooms = this.rooms({ roomList: seg[0] });
      if (!rooms)
        throw new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const select = graph.select(q, ROOM_NAMES, 'microsoft.graph.room');
      const context = `${base}('${encodeURIComponent(seg[0])}')/microsoft.graph.roomList/rooms`;
      return graph.page(entry, q, rooms, (r) => pick(r, select), context, select);
    }
    throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${seg.join('/')}'.`);
  }
}

/** A place with only the selected fields (id always, as Graph does). */
function pick(place, select) {
  if (!select) return place;
  const out = { id: place.id };
  for (const name of select) out[name] = place[name];
  return out;
}

/** One digit per slot of `interval` minutes from `start`: the strongest status of the items overlapping it. */
function availabilityView(blocks, start, end, interval) {
  const step = interval * MINUTE;
  const slots = Math.ceil((end - start) / step);
  let view = '';
  for (let i = 0; i < slots; i++) {
    const from = start + i * step;
    const to = Math.min(end, from + step);
    let best = 'free';
    for (const b of blocks) {
      if (b.from < to && b.to > from && STATUS_RANK[b.status] > STATUS_RANK[best]) best = b.status;
    }
    view += STATUS_DIGIT[best];
  }
  return view;
}

module.exports = { Schedule, availabilityView, MAX_SCHEDULES, MAX_SPAN_DAYS };
