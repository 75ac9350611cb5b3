// The simulated tenant's mailboxes, calendars and events, with recurring series expanded into occurrences.
'use strict';
const crypto = require('crypto');
const tz = require('./tz');

const { DAY, MINUTE, HOUR } = tz;
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const RELATIVE_INDEX = ['first', 'second', 'third', 'fourth'];

/** mulberry32: a small, fast, seedable PRNG (returns floats in [0, 1)). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded random source with the helpers the data generator needs. */
function randomSource(seed) {
  const next = mulberry32(seed);
  return {
    next,
    int(min, maxExclusive) {
      return min + Math.floor(next() * (maxExclusive - min));
    },
    pick(list) {
      return list[Math.floor(next() * list.length)];
    },
    chance(p) {
      return next() < p;
    },
    bytes(n) {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
    guid() {
      const b = this.bytes(16);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = b.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
    shuffle(list) {
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [list[i], list[j]] = [list[j], list[i]];
      }
      return list;
    },
  };
}

function hash32(text) {
  return crypto.createHash('sha256').update(text).digest().readUInt32LE(0);
}

// Exchange ids are base64 of a binary entry id: 00 03 24 00 ("AAMkA..."), the mailbox's GUID in ASCII, a type
// byte, then the folder and item parts; ids of one mailbox share a long prefix. Graph writes them URL-safe: '-'
// and '_' where standard base64 has '+' and '/', '=' padding kept (an id with '/' is an EWS id, and Graph reads
// '%2F' in a path as a separator: github.com/microsoftgraph/microsoft-graph-docs/issues/3598 and /issues/10167).
const ID_HEADER = Buffer.from([0x00, 0x03, 0x24, 0x00]);

/** Base64 as Graph writes ids: '+' → '-', '/' → '_', padding kept. */
function graphId(bytes) {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The constant start of a mailbox's ids; `type` 0x46 for items, 0x2e for folders (calendars). */
function mailboxPrefix(upn, type = 0x46) {
  const digest = crypto.createHash('sha256').update(`mailbox:${upn.toLowerCase()}`).digest();
  const hex = digest.toString('hex');
  const guid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  const parts = [
    ID_HEADER,
    Buffer.from(guid, 'ascii'),
    Buffer.from([0x00, type, 0x00, 0x00, 0x00, 0x00, 0x00]),
  ];
  if (type === 0x46) parts.push(digest.subarray(0, 22), Buffer.from([0x07, 0x00]));
  return Buffer.concat(parts);
}

function escapeHtml(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

/** Parses the dateTime of a Graph dateTimeTimeZone (local, optional fraction) into a wall-clock number. */
function parseLocalDateTime(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?$/.exec(String(text));
  if (!m) return undefined;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0), ms);
}

/**
 * Parses an ISO 8601 instant the way Graph reads startDateTime/endDateTime: an offset or Z is honoured, none
 * means UTC. Returns NaN for anything else (a '+' that arrived as a space included).
 */
function parseIsoInstant(text) {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(
      String(text),
    );
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = [+m[1], +m[2], +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0)];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return NaN;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  let t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (new Date(t).getUTCDate() !== d) return NaN;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * HOUR + Number(digits.slice(2)) * MINUTE);
  }
  return t;
}

/** Milliseconds from a number, Date or ISO string (with or without offset; none = UTC). */
function toMs(value) {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return parseIsoInstant(value);
  return NaN;
}

function daysInMonth(year, month0) {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** Does the recurrence pattern produce an occurrence on `day` (the series' range starts on `firstDay`)? */
function patternMatches(pattern, firstDay, day) {
  const interval = Math.max(1, pattern.interval || 1);
  const date = new Date(day * DAY);
  const first = new Date(firstDay * DAY);
  const monthsApart =
    (date.getUTCFullYear() - first.getUTCFullYear()) * 12 + date.getUTCMonth() - first.getUTCMonth();
  const weekday = WEEKDAYS[tz.weekdayOf(day)];
  const relativeOk = () => {
    if (!(pattern.daysOfWeek || []).includes(weekday)) return false;
    const dom = date.getUTCDate();
    const index = pattern.index || 'first';
    if (index === 'last') return dom + 7 > daysInMonth(date.getUTCFullYear(), date.getUTCMonth());
    return Math.floor((dom - 1) / 7) === RELATIVE_INDEX.indexOf(index);
  };
  switch (pattern.type) {
    case 'daily':
      return (day - firstDay) % interval === 0;
    case 'weekly': {
      if (!(pattern.daysOfWeek || []).includes(weekday)) return false;
      const fdw = Math.max(0, WEEKDAYS.indexOf(pattern.firstDayOfWeek || 'sunday'));
      const weekStart = (d) => d - ((tz.weekdayOf(d) - fdw + 7) % 7);
      return ((weekStart(day) - weekStart(firstDay)) / 7) % interval === 0;
    }
    case 'absoluteMonthly':
      return date.getUTCDate() === pattern.dayOfMonth && monthsApart % interval === 0;
    case 'relativeMonthly':
      return monthsApart % interval === 0 && relativeOk();
    case 'absoluteYearly':
      return (
        date.getUTCMonth() + 1 === pattern.month &&
        date.getUTCDate() === pattern.dayOfMonth &&
        (monthsApart / 12) % interval === 0
      );
    case 'relativeYearly':
      return date.getUTCMonth() + 1 === pattern.month && (monthsApart / 12) % interval === 0 && relativeOk();
    default:
      throw new Error(`unsupported recurrence pattern ${pattern.type}`);
  }
}

/**
 * The model: users, their calendars and the items stored in them. An item is a single event or a series master;
 * occurrences and exceptions are computed from the master's recurrence and its exceptions map (original day ->
 * {deleted} or {patch}).
 */
class Model {
  constructor({ seed, anchor, clock }) {
    this.seed = seed >>> 0;
    this.anchor = anchor;
    this.clock = clock;
    this.users = new Map(); // lower-case upn -> user
    this.usersById = new Map();
    this.calendars = new Map(); // lower-case upn -> [calendar]
    this.items = new Map(); // id -> item
    this.occurrences = new Map(); // occurrence id -> { item, day }
    this.viewCache = new Map();
    this.sequence = 0;
  }

  addUser({ id, upn, displayName, isRoom = false }) {
    const user = { id, upn, displayName, isRoom, mail: upn };
    this.users.set(upn.toLowerCase(), user);
    this.usersById.set(id.toLowerCase(), user);
    this.calendars.set(upn.toLowerCase(), []);
    return user;
  }

  /** A user by UPN or object id (case-insensitive), or undefined. */
  user(key) {
    if (!key) return undefined;
    const k = String(key).toLowerCase();
    return this.users.get(k) || this.usersById.get(k);
  }

  addCalendar(user, { id, name, isDefault = false, color = 'auto', hexColor = '', sharedWith = [] }) {
    const calendar = {
      id,
      name,
      owner: user,
      isDefault,
      color,
      hexColor,
      changeKey: crypto.createHash('sha256').update(`cal:${id}`).digest('base64').slice(0, 22) + '==',
      items: [],
      version: 0,
      sharedWith: new Set(sharedWith.map((u) => u.toLowerCase())),
    };
    this.calendars.get(user.upn.toLowerCase()).push(calendar);
    return calendar;
  }

  /**
   * A sharee's copy of another user's shared, non-default calendar: it sits in the sharee's own mailbox (listed in
   * her /me/calendars with the owner's name, canShare false) and is the only way Graph reads such a calendar for
   * her (learn.microsoft.com/graph/outlook-get-shared-events-calendars). Its events are the owner's (Graph gives
   * them ids of the sharee's mailbox; the simulator keeps the owner's).
   */
  addShareeCopy(holder, source, { id }) {
    const copy = {
      id,
      name: source.name,
      owner: source.owner,
      isDefault: false,
      color: source.color,
      hexColor: source.hexColor,
      changeKey: crypto.createHash('sha256').update(`cal:${id}`).digest('base64').slice(0, 22) + '==',
      items: [],
      version: 0,
      sharedWith: new Set([holder.upn.toLowerCase()]),
      source,
    };
    this.calendars.get(holder.upn.toLowerCase()).push(copy);
    return copy;
  }

  calendarsOf(user) {
    return this.calendars.get(user.upn.toLowerCase()) || [];
  }

  /** A user's calendar by id, or the default one for null/undefined. */
  calendar(user, id) {
    const list = this.calendarsOf(user);
    if (id === null || id === undefined || id === '') return list.find((c) => c.isDefault);
    return list.find((c) => c.id === id);
  }

  newItemId(user, random) {
    const tail = random.bytes(random.int(22, 25));
    return graphId(Buffer.concat([mailboxPrefix(user.upn), tail]));
  }

  occurrenceId(item, day) {
    if (!item.occurrenceIds) item.occurrenceIds = new Map();
    let id = item.occurrenceIds.get(day);
    if (!id) {
      const digest = crypto.createHash('sha256').update(`${item.id}|${day}`).digest().subarray(0, 23);
      id = graphId(Buffer.concat([mailboxPrefix(item.calendar.owner.upn), Buffer.from([0x51]), digest]));
      item.occurrenceIds.set(day, id);
      this.occurrences.set(id, { item, day });
    }
    return id;
  }

  touch(calendar) {
    calendar.version++;
    this.viewCache.clear();
  }

  /**
   * Stores an item. `spec` is internal: times as startMs/endMs (timed) or startDay/endDay (all-day, end
   * exclusive), startTz/endTz zone names, recurrence in Graph's shape.
   */
  insert(calendar, spec, random) {
    const id = spec.id || this.newItemId(calendar.owner, random);
    const changeKey = spec.changeKey || random.bytes(16).toString('base64');
    const created = spec.createdMs !== undefined ? spec.createdMs : this.clock();
    const seq = this.sequence++;
    const item = {
      id,
      seq,
      calendar,
      type: spec.recurrence ? 'seriesMaster' : 'singleInstance',
      subject: spec.subject !== undefined ? spec.subject : '',
      bodyText: spec.bodyText !== undefined ? spec.bodyText : '',
      bodyHtml: spec.bodyHtml,
      isAllDay: !!spec.isAllDay,
      isCancelled: !!spec.isCancelled,
      showAs: spec.showAs || (spec.isAllDay ? 'free' : 'busy'),
      sensitivity: spec.sensitivity || 'normal',
      importance: spec.importance || 'normal',
      categories: spec.categories || [],
      startTz: spec.startTz || 'UTC',
      endTz: spec.endTz || spec.startTz || 'UTC',
      startMs: spec.startMs,
      endMs: spec.endMs,
      startDay: spec.startDay,
      endDay: spec.endDay,
      recurrence: spec.recurrence || null,
      exceptions: new Map(),
      location: spec.location || null,
      attendees: spec.attendees || [],
      organizer: spec.organizer || { name: calendar.owner.displayName, address: calendar.owner.upn },
      isOrganizer: spec.isOrganizer !== undefined ? spec.isOrganizer : true,
      response: spec.response || (spec.isOrganizer === false ? 'accepted' : 'organizer'),
      responseRequested: spec.responseRequested !== undefined ? spec.responseRequested : true,
      isOnlineMeeting: !!spec.joinUrl,
      joinUrl: spec.joinUrl || null,
      reminderMinutesBeforeStart:
        spec.reminderMinutesBeforeStart !== undefined ? spec.reminderMinutesBeforeStart : 15,
      isReminderOn: spec.isReminderOn !== undefined ? spec.isReminderOn : !spec.isAllDay,
      hasAttachments: !!spec.hasAttachments,
      createdMs: created,
      lastModifiedMs: spec.lastModifiedMs !== undefined ? spec.lastModifiedMs : created,
      changeKey,
      iCalUId:
        '040000008200E00074C5B7101A82E00800000000' +
        crypto.createHash('sha256').update(`ical:${id}`).digest('hex').slice(0, 72).toUpperCase(),
    };
    this.prepare(item);
    calendar.items.push(item);
    this.items.set(id, item);
    this.touch(calendar);
    return item;
  }

  /** Derives what expansion needs (zone, time of day, duration) from an item's stored fields. */
  prepare(item) {
    item.iana = tz.ianaOf(item.startTz) || 'UTC';
    if (item.isAllDay) {
      item.durationDays = item.endDay - item.startDay;
    } else {
      item.durationMs = item.endMs - item.startMs;
      const wall = tz.toWall(item.startMs, item.iana);
      item.timeOfDay = ((wall % DAY) + DAY) % DAY;
      if (item.recurrence && !item.recurrence.range.startDate) {
        item.recurrence.range.startDate = tz.dateOf(Math.floor(wall / DAY));
      }
    }
    if (item.recurrence) {
      const range = item.recurrence.range;
      if (!range.startDate) range.startDate = tz.dateOf(item.startDay);
      range.recurrenceTimeZone = range.recurrenceTimeZone || item.startTz;
      item.firstDay = tz.dayOf(range.startDate);
      item.lastDay = range.type === 'endDate' ? tz.dayOf(range.endDate) : Infinity;
      item.maxCount = range.type === 'numbered' ? range.numberOfOccurrences : Infinity;
    }
  }

  /** Start/end instants of an all-day span in a zone (floating dates: midnight to midnight wherever asked). */
  static allDayInstants(startDay, endDay, iana) {
    return [tz.fromWall(startDay * DAY, iana), tz.fromWall(endDay * DAY, iana)];
  }

  /** The occurrence days of a series up to `untilDay` (inclusive), honouring numbered and end-date ranges. */
  seriesDays(item, untilDay) {
    const days = [];
    const pattern = item.recurrence.pattern;
    const last = Math.min(item.lastDay, untilDay);
    let count = 0;
    for (let d = item.firstDay; d <= last && count < item.maxCount; d++) {
      if (patternMatches(pattern, item.firstDay, d)) {
        count++;
        days.push(d);
      }
    }
    return days;
  }

  /** The instance of a series on an original day, exception applied, as the view renders it (or null if deleted). */
  seriesInstance(item, day, iana) {
    const exc = item.exceptions.get(day) || null;
    if (exc && exc.deleted) return null;
    const inst = { item, type: exc ? 'exception' : 'occurrence', id: this.occurrenceId(item, day), day, exc };
    if (item.isAllDay) {
      inst.originalStartMs = tz.fromWall(day * DAY, item.iana);
      inst.startDay = exc && exc.patch.startDay !== undefined ? exc.patch.startDay : day;
      inst.endDay = exc && exc.patch.endDay !== undefined ? exc.patch.endDay : day + item.durationDays;
      [inst.startMs, inst.endMs] = Model.allDayInstants(inst.startDay, inst.endDay, iana);
    } else {
      const originalStart = tz.fromWall(day * DAY + item.timeOfDay, item.iana);
      inst.originalStartMs = originalStart;
      inst.startMs = exc && exc.patch.startMs !== undefined ? exc.patch.startMs : originalStart;
      inst.endMs = exc && exc.patch.endMs !== undefined ? exc.patch.endMs : originalStart + item.durationMs;
    }
    return inst;
  }

  /** The instance of a stored item itself (single event or series master) as /events renders it. */
  static itemInstance(item, iana) {
    const inst = { item, type: item.type, id: item.id, exc: null };
    if (item.isAllDay) {
      inst.startDay = item.startDay;
      inst.endDay = item.endDay;
      [inst.startMs, inst.endMs] = Model.allDayInstants(item.startDay, item.endDay, iana);
    } else {
      inst.startMs = item.startMs;
      inst.endMs = item.endMs;
    }
    return inst;
  }

  /**
   * calendarView: the instances overlapping [fromMs, toMs), in storage order (series instances at their
   * master's position, by original day). `iana` is the zone asked for, which places all-day events.
   */
  view(shown, fromMs, toMs, iana) {
    const calendar = shown.source || shown;
    const key = `v|${calendar.id}|${calendar.version}|${fromMs}|${toMs}|${iana}`;
    const cached = this.viewCache.get(key);
    if (cached) return cached;
    const overlaps = (s, e) => (s < toMs && e > fromMs) || (s === e && s >= fromMs && s < toMs);
    const out = [];
    const untilDay = Math.floor(toMs / DAY) + 2;
    const fromDay = Math.floor(fromMs / DAY) - 2;
    for (const item of calendar.items) {
      if (item.type === 'singleInstance') {
        const inst = Model.itemInstance(item, iana);
        if (overlaps(inst.startMs, inst.endMs)) out.push(inst);
        continue;
      }
      const span = item.isAllDay ? item.durationDays : Math.ceil(item.durationMs / DAY);
      let until = untilDay;
      for (const [day, exc] of item.exceptions) if (!exc.deleted && day > until) until = day;
      for (const day of this.seriesDays(item, until)) {
        const exc = item.exceptions.get(day);
        if (!exc && (day + span < fromDay || day > untilDay)) continue;
        const inst = this.seriesInstance(item, day, iana);
        if (inst && overlaps(inst.startMs, inst.endMs)) out.push(inst);
      }
    }
    out.forEach((inst, i) => (inst.order = i));
    this.remember(key, out);
    return out;
  }

  /** /events: the stored items (single events and series masters) in storage order. */
  storedItems(shown, iana) {
    const calendar = shown.source || shown;
    const key = `e|${calendar.id}|${calendar.version}|${iana}`;
    const cached = this.viewCache.get(key);
    if (cached) return cached;
    const out = calendar.items.map((item, i) => Object.assign(Model.itemInstance(item, iana), { order: i }));
    this.remember(key, out);
    return out;
  }

  remember(key, value) {
    if (this.viewCache.size >= 32) this.viewCache.delete(this.viewCache.keys().next().value);
    this.viewCache.set(key, value);
  }

  /** Finds an item or an occurrence by id in a user's calendars: { item, day? } or undefined. */
  find(user, id) {
    const item = this.items.get(id);
    if (item && item.calendar.owner === user) return { item };
    let occ = this.occurrences.get(id);
    if (!occ) {
      // An occurrence nobody has listed yet: its id is derived, so compute the series' ids.
      for (const calendar of this.calendarsOf(user)) {
        for (const master of calendar.items) {
          if (master.type !== 'seriesMaster') continue;
          const horizon = Number.isFinite(master.lastDay) ? master.lastDay : master.firstDay + 3 * 366;
          for (const day of this.seriesDays(master, horizon)) this.occurrenceId(master, day);
        }
      }
      occ = this.occurrences.get(id);
    }
    if (occ && occ.item.calendar.owner === user && this.items.get(occ.item.id) === occ.item) return occ;
    return undefined;
  }

  remove(user, id) {
    const found = this.find(user, id);
    if (!found) return false;
    const { item, day } = found;
    if (day === undefined) {
      const list = item.calendar.items;
      list.splice(list.indexOf(item), 1);
      this.items.delete(item.id);
    } else {
      item.exceptions.set(day, { deleted: true });
    }
    this.touch(item.calendar);
    return true;
  }

  static nextChangeKey(previous, salt) {
    return crypto.createHash('sha256').update(`${previous}|${salt}`).digest('base64').slice(0, 22) + '==';
  }
}

module.exports = {
  Model,
  mulberry32,
  randomSource,
  hash32,
  escapeHtml,
  parseIsoInstant,
  parseLocalDateTime,
  toMs,
  patternMatches,
  mailboxPrefix,
  graphId,
  ID_HEADER,
  WEEKDAYS,
};
