// The simulated tenant's fixed directory (tenant, users, app registrations) and its seeded calendar data.
//
// What the data holds (deterministic for a given seed and anchor; "day 0" is the anchor's UTC date):
// - megan@contoso.onmicrosoft.com "Megan Bowen" (the default signed-in user), default calendar "Calendar":
//   about `eventCount` occurrences between day -30 and day +90 (counted in UTC), made of
//   - recurring series: "Stand-up" (weekly Mon-Fri 09:15 W. Europe, end date; exceptions: one moved to 11:00,
//     one moved to the next day, one with a changed subject, one cancelled, one deleted), "Daily sync – Falcon"
//     (daily, numbered 10, Pacific), "1:1 Megan / Alex" (every 2nd Thursday, no end, UTC, one deleted),
//     "Lunch & Learn – 会議" (weekly Wednesday, numbered 8, Tokyo), "Focus Friday" (all-day weekly, numbered 6),
//     "Monthly business review" (absoluteMonthly on the 15th, no end, Eastern), "Morning yoga" (every 2nd
//     day, end date, India);
//   - all-day events: one-day ("Company holiday", a Sunday, a Monday) and multi-day ("Offsite Lisbon", a
//     Saturday-to-Monday hackathon, a Friday-to-Monday absence, a Monday-to-Monday week);
//   - cancelled meetings ("Canceled: Budget review", "Canceled: Vendor demo"), a private appointment;
//   - non-ASCII subjects: 'Café Zürich – Planung', '会議 東京', 'Ελληνικά', '🎉 Launch party 🚀';
//   - the rest single meetings in Pacific, W. Europe, India, Tokyo and UTC office hours, many of them Teams
//     meetings with a joinUrl, some in the rooms, some organized by others.
//   Items are stored shuffled, so calendarView without $orderby is visibly unsorted.
// - megan's second calendar "Team" (its id contains '-', '_' and '=', as Graph's URL-safe ids do): 40 meetings and
//   a weekly "Team sync".
// - alex@… "Alex Wilber": default calendar shared with megan, 50 meetings and a "Focus time" series; a second
//   calendar "Projects" shared with megan, which she reads through her own copy (/me/calendars/{copy id}).
// - room.101@… "Room 1.01" (shared with megan while knobs.roomSharedWithMegan) and room.202@… "Room 2.02" (not
//   shared): 40 and 30 bookings organized by other people, location = the room.
// - adele@… "Adele Vance", lee@… "Lee Gu": empty default calendars, not shared.
// - createBulkMailbox() adds mailboxes with evenly spread single events (for paging tests and benchmarks).
'use strict';
const tz = require('./tz');
const { randomSource, hash32, mailboxPrefix, graphId } = require('./model');

const { DAY, MINUTE } = tz;

const TENANT_ID = 'c8498f4e-acfd-4cbd-bf2b-b68db745ea9f';
const TENANT_DOMAIN = 'contoso.onmicrosoft.com';
const TENANT_NAME = 'Contoso';

const USERS = {
  megan: { id: 'c60b45ff-6cf4-44e0-976a-e399d030139d', local: 'megan', displayName: 'Megan Bowen' },
  alex: { id: '17a1c758-1f68-4cdb-8a59-f0284bc72467', local: 'alex', displayName: 'Alex Wilber' },
  room101: {
    id: '8c863f9c-a8d6-4ad2-959d-50226acc83a3',
    local: 'room.101',
    displayName: 'Room 1.01',
    isRoom: true,
  },
  room202: {
    id: '32cdeffd-8f09-4af3-af87-d87a5389c143',
    local: 'room.202',
    displayName: 'Room 2.02',
    isRoom: true,
  },
  adele: { id: 'c6c6e606-3eb6-47c9-a760-7aa23a4a620e', local: 'adele', displayName: 'Adele Vance' },
  lee: { id: 'dfb15a5c-3e27-4a03-83ad-2cf3ecf33507', local: 'lee', displayName: 'Lee Gu' },
};

const DEFAULT_REDIRECT_URIS = [
  'http://localhost/o365/auth/callback',
  'https://localhost/o365/auth/callback',
  'https://nodered.example.com/o365/auth/callback',
];

/**
 * Fresh app registrations (tests may change them, so every simulator gets its own objects). Redirect URIs are kept
 * by platform, as Graph's application resource does: `redirectUris` are the Web platform's (web.redirectUris: a
 * confidential client, codes are redeemed with the secret), `publicClientRedirectUris` those of "Mobile and desktop
 * applications" (publicClient.redirectUris: a public client, which must not send a secret). `allowPublicClient` is
 * "Allow public client flows" (isFallbackPublicClient), which device code needs unless the app sends its secret.
 */
function defaultApps() {
  return {
    confidential: {
      clientId: '0e9e7875-7bae-4810-838c-dd962399f643',
      displayName: 'Node-RED calendar (web)',
      secret: 'k3P8Q~Vd.hR2_mT-9wLz~aB4cN6eF0gH1iJ5kL7m',
      secretId: '19f827da-7f73-4ee2-8757-316f54e596af',
      redirectUris: DEFAULT_REDIRECT_URIS.slice(),
      allowPublicClient: false,
      multiTenant: false,
    },
    public: {
      clientId: '3218eb47-525b-4144-8c22-725815192462',
      displayName: 'Node-RED calendar (device)',
      // A public client: no secret, its redirect URIs under "Mobile and desktop applications".
      redirectUris: [],
      publicClientRedirectUris: DEFAULT_REDIRECT_URIS.slice(),
      allowPublicClient: true,
      multiTenant: false,
    },
    multiTenant: {
      clientId: '977b54bf-ee0b-4b8e-92de-55b5d8ab1055',
      displayName: 'Node-RED calendar (multi-tenant)',
      secret: 'Mt7Q~zY_3xW.vU-2tS1rQ0pO9nM8lK7jI6hG5fE',
      secretId: '56e560cd-6fe2-4119-b0bc-cb7d60682139',
      redirectUris: DEFAULT_REDIRECT_URIS.slice(),
      allowPublicClient: false,
      multiTenant: true,
    },
  };
}

const OTHER_PEOPLE = [
  { name: 'Isaiah Langer', address: `isaiahl@${TENANT_DOMAIN}` },
  { name: 'Johanna Lorenz', address: `johannal@${TENANT_DOMAIN}` },
  { name: 'Pradeep Gupta', address: `pradeepg@${TENANT_DOMAIN}` },
  { name: 'Nestor Wilke', address: `nestorw@${TENANT_DOMAIN}` },
  { name: 'Sophie Müller', address: 'sophie.mueller@fabrikam.ch' },
  { name: '佐藤 健二', address: 'kenji.sato@fabrikam.co.jp' },
];

const SUBJECTS = [
  'Project Falcon sync',
  'Budget review',
  'Customer call – Fabrikam',
  'Design review',
  'Interview: backend engineer',
  'Quarterly planning',
  'Vendor demo',
  'Architecture deep dive',
  'Sprint review',
  'Retrospective',
  'Hiring committee',
  'Sales pipeline',
  'Roadmap walkthrough',
  'Security training',
  'Office hours',
  'Partner onboarding',
  'Marketing launch prep',
  'Support escalation review',
  'Board deck dry run',
  'Coffee chat',
];

const BODY_TEXTS = [
  'Let us use this slot to go through the open items and agree on the next steps.',
  'Short sync to unblock the team. Bring your questions and the latest numbers.',
  'Walkthrough of the proposal, followed by questions. The deck is in the shared folder.',
  'Please review the document beforehand and add comments where you disagree.',
  'Monthly check-in. Agenda below; add topics you want to cover.',
];

const ZONES = [
  { name: 'Pacific Standard Time', weight: 3 },
  { name: 'W. Europe Standard Time', weight: 4 },
  { name: 'India Standard Time', weight: 2 },
  { name: 'Tokyo Standard Time', weight: 1 },
  { name: 'UTC', weight: 2 },
];
const ZONE_BAG = ZONES.flatMap((z) => Array(z.weight).fill(z.name));

function roomLocation(room) {
  return {
    displayName: room.displayName,
    locationType: 'conferenceRoom',
    uniqueId: room.upn,
    uniqueIdType: 'directory',
    locationUri: room.upn,
  };
}

function person(user) {
  return { name: user.displayName, address: user.upn };
}

/** A builder of items for one mailbox, drawing everything from one seeded random source. */
function builder(model, random, anchor) {
  const anchorDay = Math.floor(anchor / DAY);
  const timed = (zone, day, hour, minute, minutes) => {
    const iana = tz.ianaOf(zone);
    const startMs = tz.fromWall(day * DAY + (hour * 60 + minute) * MINUTE, iana);
    return { startTz: zone, startMs, endMs: startMs + minutes * MINUTE };
  };
  const allDay = (day, days, zone = 'W. Europe Standard Time') => ({
    isAllDay: true,
    startDay: day,
    endDay: day + days,
    startTz: zone,
    showAs: 'free',
  });
  const stamps = () => {
    const created = anchor - random.int(2, 60) * DAY - random.int(0, DAY);
    return { createdMs: created, lastModifiedMs: created + random.int(0, 2 * DAY) };
  };
  const joinUrl = (organizerId) =>
    'https://teams.microsoft.com/l/meetup-join/19%3ameeting_' +
    random.bytes(36).toString('base64').replace(/[+/=]/g, '').slice(0, 44) +
    `%40thread.v2/0?context=%7b%22Tid%22%3a%22${TENANT_ID}%22%2c%22Oid%22%3a%22${organizerId}%22%7d`;
  const add = (calendar, spec) =>
    model.insert(calendar, { bodyText: random.pick(BODY_TEXTS), ...stamps(), ...spec }, random);
  /** First day >= `day` that falls on `weekday` (0 = Sunday). */
  const onOrAfter = (day, weekday) => day + ((weekday - tz.weekdayOf(day) + 7) % 7);
  return { anchorDay, timed, allDay, joinUrl, add, onOrAfter };
}

/** Sets an exception on a series' occurrence (original day `day`). */
function setException(model, item, day, patch, random) {
  item.exceptions.set(day, {
    patch,
    changeKey: random.bytes(16).toString('base64'),
    lastModifiedMs: item.lastModifiedMs + DAY,
  });
  model.touch(item.calendar);
  return model.occurrenceId(item, day);
}

/** A random single meeting in a calendar, placed inside [fromDay, toDay) (UTC instants). */
function randomMeeting(model, b, random, calendar, fromDay, toDay, options = {}) {
  const owner = calendar.owner;
  for (;;) {
    const zone = options.zone || random.pick(ZONE_BAG);
    const day = random.int(fromDay, toDay);
    const spec = b.timed(
      zone,
      day,
      random.int(8, 18),
      random.pick([0, 15, 30, 45]),
      random.pick([15, 30, 30, 45, 60, 60, 90, 120]),
    );
    if (spec.startMs < fromDay * DAY || spec.startMs >= toDay * DAY) continue;
    const people = random.shuffle(OTHER_PEOPLE.slice()).slice(0, random.int(1, 4));
    const organizer = options.organizer || (random.chance(0.5) ? person(owner) : random.pick(OTHER_PEOPLE));
    const isOrganizer = organizer.address === owner.upn;
    const response = isOrganizer
      ? 'organizer'
      : random.pick(['accepted', 'accepted', 'tentativelyAccepted', 'notResponded']);
    const attendees = people
      .filter((p) => p.address !== organizer.address)
      .map((p) => ({
        name: p.name,
        address: p.address,
        response: random.pick(['accepted', 'none', 'declined']),
      }));
    if (!isOrganizer) attendees.push({ name: owner.displayName, address: owner.upn, response });
    let location = null;
    if (options.room) {
      location = roomLocation(options.room);
      attendees.push({
        type: 'resource',
        name: options.room.displayName,
        address: options.room.upn,
        response: 'accepted',
      });
    } else if (random.chance(0.25)) {
      location = { displayName: random.pick(['Building 4, 2nd floor', 'Lisbon office', 'Customer site']) };
    }
    return b.add(calendar, {
      ...spec,
      subject: options.subject || random.pick(SUBJECTS),
      organizer,
      isOrganizer,
      response,
      attendees,
      location,
      showAs: response === 'tentativelyAccepted' ? 'tentative' : 'busy',
      categories: random.chance(0.2)
        ? [random.pick(['Blue category', 'Green category', 'Orange category'])]
        : [],
      joinUrl: random.chance(options.online !== undefined ? options.online : 0.45)
        ? b.joinUrl(owner.id)
        : null,
      importance: random.chance(0.1) ? 'high' : 'normal',
    });
  }
}

function weekly(days, range, extra = {}) {
  return {
    pattern: { type: 'weekly', interval: 1, daysOfWeek: days, firstDayOfWeek: 'sunday', ...extra },
    range,
  };
}

/** Megan's default calendar: the feature-rich one. Returns the fixtures (ids tests may look for). */
function seedMegan(model, random, anchor, eventCount, users) {
  const b = builder(model, random, anchor);
  const d0 = b.anchorDay;
  const megan = users.megan;
  const cal = model.calendar(megan, null);
  const fixtures = {};
  const alex = person(users.alex);

  // Stand-up: weekly Mon-Fri with every kind of exception near the anchor.
  const standupStart = d0 - 14 - ((tz.weekdayOf(d0 - 14) + 6) % 7);
  const standup = b.add(cal, {
    ...b.timed('W. Europe Standard Time', standupStart, 9, 15, 15),
    subject: 'Stand-up',
    joinUrl: b.joinUrl(megan.id),
    attendees: [alex, ...OTHER_PEOPLE.slice(0, 3)].map((p) => ({ ...p, response: 'accepted' })),
    recurrence: weekly(
      ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
      { type: 'endDate', startDate: tz.dateOf(standupStart), endDate: tz.dateOf(standupStart + 39) },
      { firstDayOfWeek: 'monday' },
    ),
  });
  const standupDays = model.seriesDays(standup, Infinity).filter((d) => d > d0);
  const iana = tz.ianaOf('W. Europe Standard Time');
  const at = (day, h, m) => tz.fromWall(day * DAY + (h * 60 + m) * MINUTE, iana);
  fixtures.standup = {
    seriesMasterId: standup.id,
    movedId: setException(
      model,
      standup,
      standupDays[0],
      { startMs: at(standupDays[0], 11, 0), endMs: at(standupDays[0], 11, 15) },
      random,
    ),
    changedId: setException(model, standup, standupDays[1], { subject: 'Stand-up (demo day)' }, random),
    cancelledId: setException(
      model,
      standup,
      standupDays[3],
      { isCancelled: true, subject: 'Canceled: Stand-up' },
      random,
    ),
    movedToOtherDayId: setException(
      model,
      standup,
      standupDays[4],
      { startMs: at(standupDays[4] + 1, 16, 0), endMs: at(standupDays[4] + 1, 16, 15) },
      random,
    ),
  };
  standup.exceptions.set(standupDays[2], { deleted: true });
  fixtures.standup.deleted = {
    id: model.occurrenceId(standup, standupDays[2]),
    originalStart: new Date(at(standupDays[2], 9, 15)).toISOString(),
  };

  const dailySync = b.add(cal, {
    ...b.timed('Pacific Standard Time', d0 - 3, 8, 0, 30),
    subject: 'Daily sync – Falcon',
    joinUrl: b.joinUrl(megan.id),
    recurrence: {
      pattern: { type: 'daily', interval: 1 },
      range: { type: 'numbered', startDate: tz.dateOf(d0 - 3), numberOfOccurrences: 10 },
    },
  });
  const oneOnOneStart = b.onOrAfter(d0 - 40, 4);
  const oneOnOne = b.add(cal, {
    ...b.timed('UTC', oneOnOneStart, 14, 0, 30),
    subject: '1:1 Megan / Alex',
    attendees: [{ ...alex, response: 'accepted' }],
    recurrence: weekly(['thursday'], { type: 'noEnd', startDate: tz.dateOf(oneOnOneStart) }, { interval: 2 }),
  });
  const oneOnOneDeleted = model.seriesDays(oneOnOne, d0 + 60).find((d) => d > d0 + 7);
  oneOnOne.exceptions.set(oneOnOneDeleted, { deleted: true });
  const lunchStart = b.onOrAfter(d0 - 7, 3);
  const lunch = b.add(cal, {
    ...b.timed('Tokyo Standard Time', lunchStart, 12, 0, 60),
    subject: 'Lunch & Learn – 会議',
    organizer: OTHER_PEOPLE[5],
    isOrganizer: false,
    response: 'accepted',
    recurrence: weekly(['wednesday'], {
      type: 'numbered',
      startDate: tz.dateOf(lunchStart),
      numberOfOccurrences: 8,
    }),
  });
  const focusStart = b.onOrAfter(d0, 5);
  const focus = b.add(cal, {
    ...b.allDay(focusStart, 1),
    subject: 'Focus Friday',
    showAs: 'workingElsewhere',
    recurrence: weekly(['friday'], {
      type: 'numbered',
      startDate: tz.dateOf(focusStart),
      numberOfOccurrences: 6,
    }),
  });
  const monthStart = new Date((d0 - 45) * DAY);
  const monthlyDay = Date.UTC(monthStart.getUTCFullYear(), monthStart.getUTCMonth(), 15) / DAY;
  const monthly = b.add(cal, {
    ...b.timed('Eastern Standard Time', monthlyDay, 10, 0, 60),
    subject: 'Monthly business review',
    joinUrl: b.joinUrl(megan.id),
    recurrence: {
      pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 15 },
      range: { type: 'noEnd', startDate: tz.dateOf(monthlyDay) },
    },
  });
  const yoga = b.add(cal, {
    ...b.timed('India Standard Time', d0 - 10, 7, 30, 45),
    subject: 'Morning yoga',
    showAs: 'free',
    recurrence: {
      pattern: { type: 'daily', interval: 2 },
      range: { type: 'endDate', startDate: tz.dateOf(d0 - 10), endDate: tz.dateOf(d0 + 14) },
    },
  });
  Object.assign(fixtures, {
    dailySyncId: dailySync.id,
    oneOnOne: {
      seriesMasterId: oneOnOne.id,
      deletedOriginalStart: new Date(
        tz.fromWall(oneOnOneDeleted * DAY + 14 * 60 * MINUTE, 'UTC'),
      ).toISOString(),
    },
    lunchId: lunch.id,
    focusFridayId: focus.id,
    monthlyId: monthly.id,
    yogaId: yoga.id,
  });

  const allDay = (day, days, subject, extra = {}) =>
    b.add(cal, { ...b.allDay(day, days), subject, ...extra }).id;
  fixtures.allDay = {
    holiday: allDay(d0 + 2, 1, 'Company holiday'),
    offsite: allDay(d0 + 9, 3, 'Offsite Lisbon', { showAs: 'busy' }),
    hackathon: allDay(b.onOrAfter(d0 + 15, 6), 3, 'Weekend hackathon'),
    sundayOnCall: allDay(b.onOrAfter(d0 + 3, 0), 1, 'On call (Sunday)'),
    releaseDay: allDay(b.onOrAfter(d0 + 4, 1), 1, 'Release day'),
    outOfOffice: allDay(b.onOrAfter(d0 + 20, 5), 4, 'Out of office', { showAs: 'oof' }),
    leaveCover: allDay(b.onOrAfter(d0 + 28, 1), 7, 'Parental leave cover'),
  };

  const meeting = (zone, day, h, m, minutes, subject, extra = {}) =>
    b.add(cal, { ...b.timed(zone, day, h, m, minutes), subject, ...extra }).id;
  fixtures.cancelled = [
    meeting('W. Europe Standard Time', d0 + 1, 10, 0, 60, 'Canceled: Budget review', {
      isCancelled: true,
      organizer: OTHER_PEOPLE[1],
      isOrganizer: false,
      response: 'notResponded',
    }),
    meeting('Pacific Standard Time', d0 + 5, 13, 0, 45, 'Canceled: Vendor demo', { isCancelled: true }),
  ];
  fixtures.nonAscii = {
    cafe: meeting('W. Europe Standard Time', d0 + 1, 14, 0, 60, 'Café Zürich – Planung', {
      location: { displayName: 'Café Zürich, Bahnhofstrasse' },
      organizer: OTHER_PEOPLE[4],
      isOrganizer: false,
      response: 'accepted',
    }),
    tokyo: meeting('Tokyo Standard Time', d0 + 2, 10, 0, 60, '会議 東京', { joinUrl: b.joinUrl(megan.id) }),
    greek: meeting('UTC', d0 + 3, 9, 0, 30, 'Ελληνικά'),
    emoji: meeting('Pacific Standard Time', d0, 16, 0, 120, '🎉 Launch party 🚀'),
  };
  fixtures.privateId = meeting('UTC', d0 + 4, 8, 0, 60, 'Doctor appointment', {
    sensitivity: 'private',
    showAs: 'oof',
  });

  // Fill with single meetings until the calendar holds eventCount occurrences in [day -30, day +90).
  const special = model.view(cal, (d0 - 30) * DAY, (d0 + 90) * DAY, 'UTC').length;
  for (let i = special; i < eventCount; i++) {
    randomMeeting(model, b, random, cal, d0 - 30, d0 + 90, {
      room: random.chance(0.1) ? users[random.pick(['room101', 'room202'])] : undefined,
    });
  }
  random.shuffle(cal.items);
  model.touch(cal);
  return fixtures;
}

/** The other mailboxes' calendars. */
function seedOthers(model, random, anchor, users) {
  const b = builder(model, random, anchor);
  const d0 = b.anchorDay;
  const team = model.calendarsOf(users.megan).find((c) => c.name === 'Team');
  for (let i = 0; i < 40; i++)
    randomMeeting(model, b, random, team, d0 - 30, d0 + 90, { organizer: person(users.megan) });
  const teamSyncStart = b.onOrAfter(d0 - 21, 2);
  b.add(team, {
    ...b.timed('W. Europe Standard Time', teamSyncStart, 10, 0, 45),
    subject: 'Team sync',
    joinUrl: b.joinUrl(users.megan.id),
    recurrence: weekly(['tuesday'], {
      type: 'numbered',
      startDate: tz.dateOf(teamSyncStart),
      numberOfOccurrences: 12,
    }),
  });
  random.shuffle(team.items);

  const alexCal = model.calendar(users.alex, null);
  for (let i = 0; i < 50; i++) {
    randomMeeting(model, b, random, alexCal, d0 - 30, d0 + 90, {
      zone: random.chance(0.7) ? 'Pacific Standard Time' : undefined,
    });
  }
  const focusStart = b.onOrAfter(d0 - 14, 1);
  b.add(alexCal, {
    ...b.timed('Pacific Standard Time', focusStart, 13, 0, 120),
    subject: 'Focus time',
    showAs: 'busy',
    recurrence: weekly(['monday', 'wednesday'], {
      type: 'endDate',
      startDate: tz.dateOf(focusStart),
      endDate: tz.dateOf(d0 + 60),
    }),
  });
  b.add(alexCal, {
    ...b.timed('Pacific Standard Time', d0 + 2, 9, 0, 60),
    subject: 'Dentist',
    sensitivity: 'private',
  });
  random.shuffle(alexCal.items);

  const organizers = [users.adele, users.lee, users.alex, users.megan].map(person);
  for (const [key, count] of [
    ['room101', 40],
    ['room202', 30],
  ]) {
    const room = users[key];
    const cal = model.calendar(room, null);
    for (let i = 0; i < count; i++) {
      randomMeeting(model, b, random, cal, d0 - 30, d0 + 90, {
        zone: 'W. Europe Standard Time',
        room,
        organizer: random.pick(organizers),
        online: 0.3,
      });
    }
    random.shuffle(cal.items);
  }
}

/** An id for a calendar: an Exchange folder id as Graph writes it; `special` forces '-', '_' and '=' into it. */
function calendarId(user, random, special) {
  const parts = [mailboxPrefix(user.upn, 0x2e)];
  if (special) parts.push(random.bytes(1), Buffer.from([0xfb, 0xff, 0xbf]), random.bytes(19));
  else parts.push(random.bytes(26));
  return graphId(Buffer.concat(parts));
}

/**
 * alex's "Projects" calendar, shared with megan, and megan's copy of it. A random source of its own, so the rest
 * of the seeded tenant stays as it was.
 */
function seedSharedProjects(model, seed, anchor, users) {
  const random = randomSource((seed ^ hash32('alex:projects')) >>> 0);
  const b = builder(model, random, anchor);
  const d0 = b.anchorDay;
  const projects = model.addCalendar(users.alex, {
    id: calendarId(users.alex, random, false),
    name: 'Projects',
    color: 'lightYellow',
    hexColor: '#fde300',
    sharedWith: [users.megan.upn],
  });
  for (let i = 0; i < 12; i++) {
    randomMeeting(model, b, random, projects, d0 - 7, d0 + 21, { organizer: person(users.alex) });
  }
  const copy = model.addShareeCopy(users.megan, projects, { id: calendarId(users.megan, random, false) });
  return { ownerCalendarId: projects.id, copyId: copy.id };
}

/** Builds the whole tenant into `model`. Returns { users, fixtures }. */
function seedTenant(model, { seed, anchor, eventCount }) {
  const random = randomSource(seed);
  const users = {};
  for (const [key, u] of Object.entries(USERS)) {
    users[key] = model.addUser({
      id: u.id,
      upn: `${u.local}@${TENANT_DOMAIN}`,
      displayName: u.displayName,
      isRoom: !!u.isRoom,
    });
  }
  const meganUpn = users.megan.upn;
  for (const [key, user] of Object.entries(users)) {
    const sharedWith = key === 'alex' ? [meganUpn] : [];
    const calendar = model.addCalendar(user, {
      id: calendarId(user, random, false),
      name: 'Calendar',
      isDefault: true,
      sharedWith,
    });
    if (key === 'room101') calendar.sharedByKnob = 'roomSharedWithMegan';
  }
  model.addCalendar(users.megan, {
    id: calendarId(users.megan, random, true),
    name: 'Team',
    color: 'lightGreen',
    hexColor: '#87d28e',
  });
  const fixtures = seedMegan(model, random, anchor, eventCount, users);
  seedOthers(model, random, anchor, users);
  fixtures.teamCalendarId = model.calendarsOf(users.megan).find((c) => c.name === 'Team').id;
  fixtures.sharedProjects = seedSharedProjects(model, seed, anchor, users);
  return { users, fixtures };
}

/** A mailbox (shared with megan) whose default calendar holds `count` single events evenly spread in [start, end). */
function createBulkMailbox(model, { seed, upn, count, start, end, shareWith }) {
  if (model.user(upn)) throw new Error(`mailbox ${upn} exists already`);
  const random = randomSource((seed ^ hash32(upn)) >>> 0);
  const local = upn.split('@')[0];
  const user = model.addUser({ id: random.guid(), upn, displayName: `Bulk ${local}` });
  const cal = model.addCalendar(user, {
    id: calendarId(user, random, false),
    name: 'Calendar',
    isDefault: true,
    sharedWith: [shareWith],
  });
  const spacing = (end - start) / count;
  const minutes = Math.max(1, Math.min(30, Math.floor(spacing / MINUTE)));
  const created = start - 7 * DAY;
  const specs = [];
  for (let i = 0; i < count; i++) {
    const startMs = start + Math.floor(i * spacing);
    specs.push({
      subject: `Bulk event ${i + 1}`,
      bodyText: BODY_TEXTS[i % BODY_TEXTS.length],
      startTz: 'UTC',
      startMs,
      endMs: Math.min(startMs + minutes * MINUTE, Math.max(startMs + 1, end)),
      createdMs: created,
      organizer: person(user),
      attendees: [{ name: 'Megan Bowen', address: `megan@${TENANT_DOMAIN}`, response: 'accepted' }],
    });
  }
  random.shuffle(specs);
  for (const spec of specs) model.insert(cal, spec, random);
  return user;
}

module.exports = {
  TENANT_ID,
  TENANT_DOMAIN,
  TENANT_NAME,
  defaultApps,
  seedTenant,
  createBulkMailbox,
};
