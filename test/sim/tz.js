// Time-zone arithmetic for the simulator: instants <-> wall-clock times in IANA zones, Windows <-> IANA names.
'use strict';
const { WINDOWS_TO_IANA_MAP } = require('windows-iana');

const MINUTE = 60000;
const HOUR = 3600000;
const DAY = 86400000;

// Windows zone name -> its "001" (golden) IANA zone, e.g. 'Pacific Standard Time' -> 'America/Los_Angeles'.
const windowsToIana = new Map();
for (const entry of WINDOWS_TO_IANA_MAP) {
  if (entry.territory === '001') windowsToIana.set(entry.windowsName, entry.iana[0]);
}
const windowsByLowerName = new Map([...windowsToIana.keys()].map((name) => [name.toLowerCase(), name]));

// Graph takes "any of the time zones supported by Windows" (the names of CLDR's windowsZones table, which
// windows-iana carries) and these IANA names, as the dateTimeTimeZone resource lists them
// (learn.microsoft.com/graph/api/resources/datetimetimezone; where the page gives two spellings, as in
// "Europe/Kyiv (Kiev)", both are taken). Any other name is refused with 400 TimeZoneNotSupportedException
// (observed: github.com/microsoftgraph/microsoft-graph-docs/issues/6870, issues/4758), not answered in UTC.
const ACCEPTED_IANA = new Set([
  'Etc/GMT+12',
  'Etc/GMT+11',
  'Pacific/Honolulu',
  'America/Anchorage',
  'America/Santa_Isabel',
  'America/Los_Angeles',
  'America/Phoenix',
  'America/Chihuahua',
  'America/Denver',
  'America/Guatemala',
  'America/Chicago',
  'America/Mexico_City',
  'America/Regina',
  'America/Bogota',
  'America/New_York',
  'America/Indiana/Indianapolis',
  'America/Caracas',
  'America/Asuncion',
  'America/Halifax',
  'America/Cuiaba',
  'America/La_Paz',
  'America/Santiago',
  'America/St_Johns',
  'America/Sao_Paulo',
  'America/Argentina/Buenos_Aires',
  'America/Cayenne',
  'America/Godthab',
  'America/Montevideo',
  'America/Bahia',
  'Etc/GMT+2',
  'Atlantic/Azores',
  'Atlantic/Cape_Verde',
  'Africa/Casablanca',
  'Etc/GMT',
  'Europe/London',
  'Atlantic/Reykjavik',
  'Europe/Berlin',
  'Europe/Budapest',
  'Europe/Paris',
  'Europe/Warsaw',
  'Africa/Lagos',
  'Africa/Windhoek',
  'Europe/Bucharest',
  'Asia/Beirut',
  'Africa/Cairo',
  'Asia/Damascus',
  'Africa/Johannesburg',
  'Europe/Kyiv',
  'Europe/Kiev',
  'Europe/Istanbul',
  'Asia/Jerusalem',
  'Asia/Amman',
  'Asia/Baghdad',
  'Europe/Kaliningrad',
  'Asia/Riyadh',
  'Africa/Nairobi',
  'Asia/Tehran',
  'Asia/Dubai',
  'Asia/Baku',
  'Europe/Moscow',
  'Indian/Mauritius',
  'Asia/Tbilisi',
  'Asia/Yerevan',
  'Asia/Kabul',
  'Asia/Karachi',
  'Asia/Toshkent',
  'Asia/Tashkent',
  'Asia/Kolkata',
  'Asia/Colombo',
  'Asia/Kathmandu',
  'Asia/Astana',
  'Asia/Almaty',
  'Asia/Dhaka',
  'Asia/Yekaterinburg',
  'Asia/Yangon',
  'Asia/Rangoon',
  'Asia/Bangkok',
  'Asia/Novosibirsk',
  'Asia/Shanghai',
  'Asia/Krasnoyarsk',
  'Asia/Singapore',
  'Australia/Perth',
  'Asia/Taipei',
  'Asia/Ulaanbaatar',
  'Asia/Irkutsk',
  'Asia/Tokyo',
  'Asia/Seoul',
  'Australia/Adelaide',
  'Australia/Darwin',
  'Australia/Brisbane',
  'Australia/Sydney',
  'Pacific/Port_Moresby',
  'Australia/Hobart',
  'Asia/Yakutsk',
  'Pacific/Guadalcanal',
  'Asia/Vladivostok',
  'Pacific/Auckland',
  'Etc/GMT-12',
  'Pacific/Fiji',
  'Asia/Magadan',
  'Pacific/Tongatapu',
  'Pacific/Apia',
  'Pacific/Kiritimati',
]);
// Two names of that list that are not IANA's own: the zone Intl knows them as.
const LISTED_SPELLINGS = { 'Asia/Toshkent': 'Asia/Tashkent', 'Asia/Astana': 'Asia/Almaty' };

const formatters = new Map();
const offsetCaches = new Map();

function isUtc(iana) {
  return iana === 'UTC' || iana === 'Etc/UTC' || iana === 'Etc/GMT';
}

function formatterFor(iana) {
  let f = formatters.get(iana);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: iana,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(iana, f);
  }
  return f;
}

/** UTC offset (ms) of an IANA zone at an instant. Cached per half hour: zones change offset on such boundaries. */
function offsetAt(iana, ms) {
  if (isUtc(iana)) return 0;
  let cache = offsetCaches.get(iana);
  if (!cache) {
    cache = new Map();
    offsetCaches.set(iana, cache);
  }
  const bucket = Math.floor(ms / (30 * MINUTE));
  let off = cache.get(bucket);
  if (off === undefined) {
    const at = bucket * 30 * MINUTE;
    const p = {};
    for (const part of formatterFor(iana).formatToParts(at)) p[part.type] = part.value;
    const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    off = wall - at;
    cache.set(bucket, off);
  }
  return off;
}

/** Wall-clock milliseconds (a UTC-based number whose UTC fields are the local fields) of an instant in a zone. */
function toWall(ms, iana) {
  return ms + offsetAt(iana, ms);
}

/**
 * The instant at which a zone's wall clock shows `wall` (a UTC-based number). A time that does not exist (spring
 * forward) moves forward by the gap; an ambiguous one (fall back) takes the earlier instant.
 */
function fromWall(wall, iana) {
  if (isUtc(iana)) return wall;
  const before = offsetAt(iana, wall - DAY);
  const after = offsetAt(iana, wall + DAY);
  const t1 = wall - before;
  const t2 = wall - after;
  const ok1 = offsetAt(iana, t1) === before;
  const ok2 = offsetAt(iana, t2) === after;
  if (ok1 && ok2) return Math.min(t1, t2);
  if (ok1) return t1;
  if (ok2) return t2;
  return t1;
}

function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

/** A wall-clock number as Graph writes dateTime: '2026-11-27T09:00:00.0000000'. */
function formatWall(wall) {
  const d = new Date(wall);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}0000`
  );
}

/** An instant as Graph writes createdDateTime: '2026-11-27T09:00:00.1230000Z'. */
function formatUtcStamp(ms) {
  return `${formatWall(ms)}Z`;
}

/** Day number (days since 1970-01-01) of a 'YYYY-MM-DD' date. */
function dayOf(date) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3]) / DAY;
}

/** 'YYYY-MM-DD' of a day number. */
function dateOf(day) {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

/** Day of the week of a day number, 0 = Sunday. */
function weekdayOf(day) {
  return (((day + 4) % 7) + 7) % 7;
}

/**
 * The IANA zone behind a Windows or IANA name, or undefined. Used for events' own zones (the simulator's data and
 * addEvent), where any name is fine.
 */
function ianaOf(name) {
  if (!name) return undefined;
  const windows = windowsByLowerName.get(String(name).toLowerCase());
  if (windows) return windowsToIana.get(windows);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return name;
  } catch {
    return undefined;
  }
}

/**
 * How Graph treats a Prefer: outlook.timezone value: `{ name, iana }` when accepted (name is echoed in the
 * timeZone fields), undefined when Graph refuses it (the caller answers 400 TimeZoneNotSupportedException).
 */
function preferredZone(name) {
  if (typeof name !== 'string' || name.trim() === '') return undefined;
  const trimmed = name.trim();
  const windows = windowsByLowerName.get(trimmed.toLowerCase());
  if (windows) return { name: trimmed, iana: windowsToIana.get(windows) };
  if (ACCEPTED_IANA.has(trimmed)) return { name: trimmed, iana: LISTED_SPELLINGS[trimmed] || trimmed };
  return undefined;
}

module.exports = {
  MINUTE,
  HOUR,
  DAY,
  ACCEPTED_IANA,
  offsetAt,
  toWall,
  fromWall,
  formatWall,
  formatUtcStamp,
  dayOf,
  dateOf,
  weekdayOf,
  ianaOf,
  preferredZone,
  pad,
};
